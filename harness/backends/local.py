"""Backends whose weights live on this machine (transformers, vLLM): found by `--model`, loaded on first need.

`LocalBackend.create` resolves `--model` (models.resolve_model: embedded name, local folder or hub
id at a commit) and returns a `LazyBackend`: its `info` (what the request cache keys on) comes from
the folder and the tokenizer alone, so a run whose every request is cached never loads the weights.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, Field, model_validator

from harness.backends.base import Backend, OnDone, Request, Response
from harness.backends.models import ResolvedModel, describe, load_tokenizer, resolve_model
from harness.backends.prompting import encode_prompt
from harness.core.records import ModelInfo, Strict


class LocalBackend(Backend):
    """Weights on this machine; subclasses load them in `__init__(model, options)` and set `tokenizer`."""

    name: ClassVar[str]  # the backend's registry name, recorded as ModelInfo.backend
    local = True
    tokenizer: Any

    @classmethod
    def create(cls, model: str | None, options: BaseModel) -> Backend:
        return LazyBackend(cls, resolve_model(model), options)

    @classmethod
    def identity(cls, model: ResolvedModel, options: Any) -> ModelInfo:
        """The ModelInfo the loaded backend will report, known before loading it."""
        raise NotImplementedError

    @classmethod
    def describe(cls, model: ResolvedModel, *, dtype: str, device: str, **extra: Any) -> ModelInfo:
        return describe(model, backend=cls.name, dtype=dtype, device=device, chat_template=chat_template_of(model),
                        **extra)

    def count_tokens(self, requests: Sequence[Request]) -> int | None:
        return sum(len(encode_prompt(self.tokenizer, r)) for r in requests)


class LazyBackend(Backend):
    """A local backend whose weights load on the first request that needs them."""

    local = True

    def __init__(self, cls: type[LocalBackend], model: ResolvedModel, options: BaseModel) -> None:
        self.cls, self.model, self.options = cls, model, options
        self.info = cls.identity(model, options)
        self.engine: LocalBackend | None = None
        self._tokenizer = None
        self._keep: list[Request] = []  # keep_prefixes' hint, passed on when the weights load

    def load(self) -> LocalBackend:
        if self.engine is None:
            start = time.perf_counter()
            self.engine = self.cls(self.model, self.options)  # type: ignore[call-arg]
            self.load_seconds = time.perf_counter() - start
            self.info = self.engine.info
        return self.engine

    def run(self, requests: Sequence[Request], on_done: OnDone | None = None) -> list[Response]:
        if not requests:
            return []
        if self.engine is None:  # the hint given before the weights loaded
            self.load().keep_prefixes(self._keep)
        return self.load().run(requests, on_done)

    def keep_prefixes(self, requests: Sequence[Request]) -> None:
        self._keep = list(requests)
        if self.engine is not None:
            self.engine.keep_prefixes(self._keep)

    def count_tokens(self, requests: Sequence[Request]) -> int | None:
        """Prompt tokens of `requests` with the model's tokenizer (the weights stay unloaded)."""
        if self.engine is not None:
            return self.engine.count_tokens(requests)
        if self._tokenizer is None:
            self._tokenizer = load_tokenizer(self.model)
        return sum(len(encode_prompt(self._tokenizer, r)) for r in requests)

    @property  # type: ignore[override]
    def model_seconds(self) -> float:
        return self.engine.model_seconds if self.engine is not None else 0.0

    @property  # type: ignore[override]
    def prefix_queried(self) -> int:
        return self.engine.prefix_queried if self.engine is not None else 0

    @property  # type: ignore[override]
    def prefix_hits(self) -> int:
        return self.engine.prefix_hits if self.engine is not None else 0

    @property
    def loaded(self) -> bool:
        return self.engine is not None

    def close(self) -> None:
        if self.engine is not None:
            self.engine.close()


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
    return getattr(load_tokenizer(model), "chat_template", None)


def default_device(device: str = "auto") -> str:
    if device != "auto":
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def cpu_has_native_bf16(cpuinfo: str | None = None) -> bool:
    """Whether this CPU computes bfloat16 in hardware (x86 avx512_bf16 or AMX, Arm bf16), read from the flags
    of /proc/cpuinfo (or the text given). Without it torch emulates bf16, and many small matrix products
    (decoding, prefix-tree suffixes) run several times slower."""
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace") if cpuinfo is None else cpuinfo
    except OSError:
        return False
    flags = {flag for line in text.splitlines() if line.lower().startswith(("flags", "features"))
             for flag in line.split(":", 1)[-1].split()}
    return bool(flags & {"avx512_bf16", "amx_bf16", "bf16"})


class DtypeOptions(Strict):
    """The dtype option of the local backends: `auto` is resolved when the options are read (`default_dtype` of
    the options' device, or of this machine's when they have none), so cache keys and results name a real dtype."""

    dtype: Literal["auto", "bfloat16", "float16", "float32"] = Field(
        "auto", description="auto: bfloat16 on a GPU, float32 on a CPU (resolved when the options are read)")

    @model_validator(mode="before")
    @classmethod
    def _auto_dtype(cls, data):  # type: ignore[no-untyped-def]
        if isinstance(data, dict) and data.get("dtype", "auto") == "auto":
            data = {**data, "dtype": default_dtype(str(data.get("device", "auto")))}
        return data


def default_dtype(device: str = "auto") -> str:
    """`--dtype auto` when no trained folder says otherwise: bfloat16 on a GPU (float16 where it has no bf16),
    float32 on a CPU. On a CPU float32 gives the same answers with and without prefix sharing and on every
    CPU, where bf16's coarse log-probs flip near-ties (docs/performance.md), and it is the fast choice on a
    CPU without native bf16; `--dtype bfloat16` is faster on one with it."""
    device = default_device(device)
    if not device.startswith("cuda"):
        return "float32"
    import torch

    return "bfloat16" if torch.cuda.is_bf16_supported() else "float16"
