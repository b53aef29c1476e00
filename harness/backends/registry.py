"""Backends by name. Adding a backend = one module + one line here."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Literal

from pydantic import BaseModel

from harness.backends.base import Backend
from harness.backends.models import ResolvedModel
from harness.core.errors import HarnessError

BackendName = Literal["hf", "vllm", "openai"]


class BackendOptions(BaseModel):
    dtype: str = "bfloat16"
    device: str = "auto"
    batch_size: int = 16
    tensor_parallel_size: int = 1  # vllm
    data_parallel_size: int = 1  # vllm: engines in Ray actors
    base_url: str | None = None  # openai
    api_key_env: str = "OPENAI_API_KEY"  # openai: the NAME of the variable, never the key
    concurrency: int = 8  # openai


def create_backend(name: str, model: str | None, options: BackendOptions) -> Backend:
    """The backend for `--backend NAME --model MODEL`: local weights load lazily; a server is a server."""
    if name == "openai":
        from harness.backends.openai import OpenAIBackend

        if not model:
            raise HarnessError("the openai backend needs --model: the model name the server serves")
        return OpenAIBackend(options.base_url or "", model, api_key_env=options.api_key_env,
                             concurrency=options.concurrency)
    from harness.backends.models import resolve_model

    return LazyBackend(name, resolve_model(model), options)


class LazyBackend:
    """A backend whose weights load on the first request that needs them.

    `info` (what the cache keys on) comes from the folder and the tokenizer alone, so a run whose
    every request is cached never loads the model.
    """

    def __init__(self, name: str, model: ResolvedModel, options: BackendOptions) -> None:
        from harness.backends.models import describe

        if name not in ("hf", "vllm"):
            raise HarnessError(f"unknown backend '{name}' (choose hf, vllm or openai)")
        self.name, self.model, self.options = name, model, options
        device = options.device if options.device != "auto" else _default_device()
        self.info = describe(model, backend=name, dtype=options.dtype, device=device,
                             chat_template=chat_template_of(model))
        self.engine: Backend | None = None
        self._tokenizer = None
        self.load_seconds = 0.0

    def load(self) -> Backend:
        if self.engine is None:
            start = time.perf_counter()
            self.engine = make_backend(self.name, self.model, self.options)
            self.load_seconds = time.perf_counter() - start
            self.info = self.engine.info
        return self.engine

    def run(self, requests, on_done=None):  # type: ignore[no-untyped-def]
        return self.load().run(requests, on_done) if requests else []

    def count_tokens(self, requests) -> int:  # type: ignore[no-untyped-def]
        """Prompt tokens of `requests` with the model's tokenizer (the weights stay unloaded)."""
        from harness.backends.prompting import encode_prompt

        if self.engine is not None and hasattr(self.engine, "tokenizer"):
            tokenizer = self.engine.tokenizer
        else:
            if self._tokenizer is None:
                from transformers import AutoTokenizer

                self._tokenizer = AutoTokenizer.from_pretrained(self.model.path)
            tokenizer = self._tokenizer
        return sum(len(encode_prompt(tokenizer, r)) for r in requests)

    @property
    def model_seconds(self) -> float:
        return getattr(self.engine, "model_seconds", 0.0)


def chat_template_of(model: ResolvedModel) -> str | None:
    """The model's chat template, read from its folder's files when it has one (loading a tokenizer
    takes seconds), otherwise from the tokenizer."""
    folder = Path(model.path)
    if folder.is_dir():
        jinja = folder / "chat_template.jinja"
        if jinja.is_file():
            return jinja.read_text(encoding="utf-8")
        config = folder / "tokenizer_config.json"
        if config.is_file():
            template = json.loads(config.read_text(encoding="utf-8")).get("chat_template")
            if isinstance(template, str) or template is None:
                return template
    from transformers import AutoTokenizer

    try:
        return getattr(AutoTokenizer.from_pretrained(model.path), "chat_template", None)
    except OSError as exc:
        raise HarnessError(f"cannot load the tokenizer of '{model.path}': {' '.join(str(exc).split())[:200]}") \
            from None


def _default_device() -> str:
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def make_backend(name: str, model: ResolvedModel, options: BackendOptions) -> Backend:
    if name == "hf":
        from harness.backends.hf import HFBackend

        return HFBackend(model, dtype=options.dtype, device=options.device, batch_size=options.batch_size)
    if name == "vllm":
        from harness.backends.vllm import VLLMBackend

        return VLLMBackend(model, dtype=options.dtype, tensor_parallel_size=options.tensor_parallel_size,
                           data_parallel_size=options.data_parallel_size)
    raise HarnessError(f"unknown backend '{name}' (choose hf, vllm or openai)")
