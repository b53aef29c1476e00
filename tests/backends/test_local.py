"""LazyBackend: identity known before loading (cache keys agree), weights loaded only when needed."""

import json
import shutil

import pytest
import torch

from harness.backends.base import Message, Request
from harness.backends.hf import HFBackend, HFOptions, default_prefix_sharing
from harness.backends.local import LazyBackend, chat_template_of, cpu_has_native_bf16, default_dtype
from harness.backends.models import ResolvedModel, resolve_model
from harness.backends.registry import create_backend
from harness.backends.vllm import VLLMOptions

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


def test_a_keep_prefixes_hint_given_before_loading_reaches_the_engine():
    lazy = create_backend("hf", None, {"dtype": "float32", "batch_size": "4"})
    first = Request(messages=(Message(role="user", content="Name a colour. " * 8),), generate=False, candidates=("A",))
    lazy.keep_prefixes([first])
    assert not lazy.loaded  # a hint loads nothing
    lazy.run([first])
    assert len(lazy.engine.kept.entries) == 1  # the first turn's cache was kept by the engine loaded after the hint
    lazy.keep_prefixes([])
    assert not lazy.engine.kept.entries and not lazy.engine.kept.wanted
    lazy.close()


def test_chat_template_read_from_files_equals_tokenizer(embedded_backend, tmp_path):
    assert chat_template_of(resolve_model(None)) == embedded_backend.tokenizer.chat_template
    folder = tmp_path / "m"
    shutil.copytree(resolve_model(None).path, folder)
    (folder / "chat_template.jinja").unlink()
    (folder / "tokenizer_config.json").write_text(json.dumps({"chat_template": "{{ messages }}"}))
    assert chat_template_of(ResolvedModel("m", str(folder), "local")) == "{{ messages }}"


XEON = "processor\t: 0\nflags\t\t: fpu sse2 avx2 avx512f avx512bw avx512_vnni\n"
EPYC = "processor\t: 0\nflags\t\t: fpu sse2 avx2 avx512f avx512_bf16 avx512_vnni\n"
ARM = "processor\t: 0\nFeatures\t: fp asimd sve bf16 i8mm\n"


def test_native_bf16_is_read_from_the_cpu_flags():
    assert not cpu_has_native_bf16(XEON)
    assert cpu_has_native_bf16(EPYC)
    assert cpu_has_native_bf16(ARM)
    assert not cpu_has_native_bf16("")


def test_auto_dtype_is_float32_on_a_cpu_and_explicit_dtypes_stay():
    assert default_dtype("cpu") == "float32"
    assert HFOptions().dtype == HFOptions(dtype="auto").dtype == HFOptions(device="cpu").dtype == "float32"
    assert HFOptions(dtype="bfloat16").dtype == "bfloat16"
    if not torch.cuda.is_available():
        assert VLLMOptions().dtype == "float32"


def test_prefix_sharing_is_off_by_default_only_for_emulated_half_precision():
    assert default_prefix_sharing("float32", "cpu", native_bf16=False)
    assert not default_prefix_sharing("bfloat16", "cpu", native_bf16=False)
    assert not default_prefix_sharing("float16", "cpu", native_bf16=False)
    assert default_prefix_sharing("bfloat16", "cpu", native_bf16=True)
    assert default_prefix_sharing("bfloat16", "cuda:0", native_bf16=False)
