"""The folders a config file may name files in (harness/config/paths.py)."""

from pathlib import Path

import pytest

from harness.config.paths import ENV, PROMPTS, OutsideError, allowing, confine


def test_inside_the_folder_and_the_project_prompts(tmp_path):
    (tmp_path / "sub").mkdir()
    assert confine(tmp_path, "sub/t.j2") == (tmp_path / "sub" / "t.j2").resolve()
    assert confine(tmp_path, str(PROMPTS / "mc" / "question.j2")) == PROMPTS / "mc" / "question.j2"


@pytest.mark.parametrize("name", ["/etc/passwd", "../outside.j2", "sub/../../outside.j2", "~/x.j2"])
def test_outside_is_refused(tmp_path, name):
    base = tmp_path / "task"
    (base / "sub").mkdir(parents=True)
    with pytest.raises(OutsideError, match="outside the config's folder"):
        confine(base, name)


def test_a_symlink_is_followed(tmp_path):
    base = tmp_path / "task"
    base.mkdir()
    (base / "in.j2").symlink_to(tmp_path / "secret")
    with pytest.raises(OutsideError, match="resolves to"):
        confine(base, "in.j2")


def test_allowed_by_flag_for_a_command_only_and_by_env(tmp_path, monkeypatch):
    base, other, third = tmp_path / "task", tmp_path / "data", tmp_path / "more"
    base.mkdir()
    with allowing([other]):
        assert confine(base, "../data/x.jsonl") == other / "x.jsonl"
    with pytest.raises(OutsideError):
        confine(base, "../data/x.jsonl")
    monkeypatch.setenv(ENV, f"{other}:{third}")
    assert confine(base, "../more/y.jsonl") == third / "y.jsonl"
    assert Path(confine(base, "../data/x.jsonl")).parent == other


def test_every_builtin_task_and_template_is_package_data():
    """harness/builtin links to tasks/ and prompts/; pyproject's package data must ship every file under them,
    so `harness run NAME` works from an installed wheel (a new folder level needs a new pattern)."""
    import fnmatch

    from harness.config.paths import BUILTIN, PROMPTS, TASKS
    from tests.conftest import ROOT

    assert (PROMPTS, TASKS) == (ROOT / "prompts", ROOT / "tasks")  # in a checkout: the links resolve to the repo
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["harness"]
    files = [f"builtin/{top}/{f.relative_to(BUILTIN / top)}" for top in ("tasks", "prompts")
             for f in (BUILTIN / top).rglob("*") if f.is_file()]
    assert len(files) > 30
    missing = [f for f in files if not any(fnmatch.fnmatchcase(f, p) and f.count("/") == p.count("/")
                                           for p in patterns)]
    assert not missing, f"not shipped in the wheel: {missing}"
