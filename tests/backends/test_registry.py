"""LazyBackend: identity known before loading (cache keys agree), weights loaded only when needed."""

import pytest

from harness.backends.base import Message, Request
from harness.backends.models import resolve_model
from harness.backends.registry import BackendOptions, LazyBackend
from harness.core.errors import HarnessError

pytestmark = pytest.mark.integration


def test_info_before_loading_equals_loaded_engine_info(embedded_backend):
    lazy = LazyBackend("hf", resolve_model(None), BackendOptions(dtype="float32", batch_size=4))
    assert lazy.info == embedded_backend.info  # so cache keys computed before loading stay valid
    assert lazy.run([]) == [] and lazy.engine is None
    (response,) = lazy.run([Request(messages=(Message(role="user", content="Hi"),), generate=False,
                                    candidates=("A",))])
    assert lazy.engine is not None and lazy.load_seconds > 0
    assert lazy.info == embedded_backend.info and response.candidate_logprobs


def test_unknown_backend():
    with pytest.raises(HarnessError, match="unknown backend"):
        LazyBackend("tgi", resolve_model(None), BackendOptions())


def test_chat_template_read_from_files_equals_tokenizer(embedded_backend, tmp_path):
    from harness.backends.registry import chat_template_of

    assert chat_template_of(resolve_model(None)) == embedded_backend.tokenizer.chat_template
    import json
    import shutil

    folder = tmp_path / "m"
    shutil.copytree(resolve_model(None).path, folder)
    (folder / "chat_template.jinja").unlink()
    (folder / "tokenizer_config.json").write_text(json.dumps({"chat_template": "{{ messages }}"}))
    from harness.backends.models import ResolvedModel

    assert chat_template_of(ResolvedModel("m", str(folder), "local")) == "{{ messages }}"
