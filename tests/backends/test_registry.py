"""Backends by name with their own options: `--backend-arg key=value` validated with one-line errors."""

import pytest

from harness.backends.base import Backend
from harness.backends.fake import FakeBackend
from harness.backends.registry import backend_options, create_backend, option_lines, parse_backend_args
from harness.core.errors import HarnessError
from harness.core.plugins import BACKENDS


def test_every_builtin_backend_registers_a_backend_with_options():
    assert {"hf", "vllm", "openai", "fake"} <= set(BACKENDS.names())
    for entry in BACKENDS.entries():
        assert issubclass(entry.value, Backend) and entry.help
        if entry.value.local:  # a local backend records its registry name in ModelInfo.backend
            assert entry.value.name == entry.name
        assert option_lines(entry.value)


def test_values_are_parsed_and_validated_per_backend():
    assert parse_backend_args(["concurrency=4", "base_url=http://h:1/v1?a=b"]) == {
        "concurrency": "4", "base_url": "http://h:1/v1?a=b"}
    options = backend_options("openai", {"base_url": "http://h/v1", "concurrency": "4", "label_logprobs": "top_k"})
    assert options.concurrency == 4 and options.label_logprobs == "top_k"
    assert backend_options("vllm", {}).label_logprobs == "exact"
    assert backend_options("hf", {"dtype": "float32", "batch_size": "2"}).batch_size == 2
    fake = create_backend("fake", None, {"answer": "random", "seed": "3"})
    assert isinstance(fake, FakeBackend) and fake.options.seed == 3


@pytest.mark.parametrize(("name", "values", "fragment"), [
    ("openai", {}, "the openai backend needs --backend-arg base_url=... (the server's URL"),
    ("openai", {"base_url": "u", "concurency": "3"}, "the openai backend has no option 'concurency' (its options: "
                                                     "base_url, api_key_env, concurrency"),
    ("hf", {"batch_size": "x"}, "batch_size='x': Input should be a valid integer"),
    ("hf", {"dtype": "float8"}, "dtype='float8': Input should be 'auto', 'bfloat16', 'float16' or 'float32'"),
    ("vllm", {"device": "cpu"}, "the vllm backend has no option 'device'"),
    ("fake", {"table_file": "/no/such/file.json"}, "cannot read /no/such/file.json"),
    ("tgi", {}, "unknown backend 'tgi' (known: fake, hf, openai, vllm"),
])
def test_bad_options_are_one_line_errors(name, values, fragment):
    with pytest.raises(HarnessError) as exc:
        backend_options(name, values)
    assert fragment in str(exc.value) and "\n" not in str(exc.value)


@pytest.mark.parametrize(("pairs", "fragment"), [
    (["concurrency"], "'concurrency' is not key=value"), (["=3"], "'=3' is not key=value"),
    (["a=1", "a=2"], "'a' is given twice")])
def test_malformed_backend_args(pairs, fragment):
    with pytest.raises(HarnessError, match=fragment):
        parse_backend_args(pairs)
