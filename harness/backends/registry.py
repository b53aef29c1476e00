"""Backends by name. Adding a backend = one module + one line here."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

from harness.backends.base import Backend
from harness.backends.models import ResolvedModel
from harness.errors import HarnessError

BackendName = Literal["hf", "vllm"]


class BackendOptions(BaseModel):
    dtype: str = "bfloat16"
    device: str = "auto"
    batch_size: int = 16
    tensor_parallel_size: int = 1


def make_backend(name: str, model: ResolvedModel, options: BackendOptions) -> Backend:
    if name == "hf":
        from harness.backends.hf import HFBackend

        return HFBackend(model, dtype=options.dtype, device=options.device, batch_size=options.batch_size)
    if name == "vllm":
        from harness.backends.vllm import VLLMBackend

        return VLLMBackend(model, dtype=options.dtype, tensor_parallel_size=options.tensor_parallel_size)
    raise HarnessError(f"unknown backend '{name}' (choose hf or vllm)")
