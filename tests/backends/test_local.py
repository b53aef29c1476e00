"""LazyBackend: identity known before loading (cache keys agree), weights loaded only when needed."""

import json
import shutil

import pytest

from harness.backends.base import Message, Request
from harness.backends.hf import HFBackend
from harness.backends.local import LazyBackend, chat_template_of
from harness.backends.models import ResolvedModel, resolve_model
from harness.backends.registry import create_backend

pytestmark = pytest.mark.integration


def test_info_before_loading_equals_loaded_engine_info(embedded_backend):
    lazy = create_backend("hf", None, {"dtype": "float32", "batch_size": "4"})
    assert isinstance(lazy, LazyBackend) and lazy.cls is HFBackend
    assert lazy.info == embedded_backend.info  # so cache keys computed before loading stay valid
    assert lazy.run([]) == [] and not lazy.loaded and lazy.model_seconds == 0.0
    assert lazy.count_tokens([Request(messages=(Message(role="user", content="Hi"),))]) > 0 and not lazy.loaded
    (response,) = lazy.run([Request(messages=(Message(role="user", content="Hi"),), generate=False,
                                    candidates=("A",))])
    assert lazy.loaded and lazy.load_seconds > 0 and lazy.model_seconds > 0
    assert lazy.info == embedded_backend.info and response.candidate_logprobs
    lazy.close()


def test_chat_template_read_from_files_equals_tokenizer(embedded_backend, tmp_path):
    assert chat_template_of(resolve_model(None)) == embedded_backend.tokenizer.chat_template
    folder = tmp_path / "m"
    shutil.copytree(resolve_model(None).path, folder)
    (folder / "chat_template.jinja").unlink()
    (folder / "tokenizer_config.json").write_text(json.dumps({"chat_template": "{{ messages }}"}))
    assert chat_template_of(ResolvedModel("m", str(folder), "local")) == "{{ messages }}"
