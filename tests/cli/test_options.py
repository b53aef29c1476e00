"""`--device` is checked before any backend is built (harness/cli/options.py); the GPUs torch sees are
stubbed here so both branches run on any machine."""

import pytest

from harness.cli.options import check_device
from harness.core.errors import HarnessError


@pytest.mark.parametrize(("device", "backend", "gpus", "fragment"), [
    ("auto", "hf", 0, None),
    ("cpu", "hf", 0, None),
    ("cuda", "hf", 1, None),
    ("cuda:1", "vllm", 2, None),
    ("cuda", "openai", 0, None),  # the server picks its own device
    ("cuda", "hf", 0, "no CUDA GPU is visible here for 'cuda'"),
    ("cuda:1", "hf", 1, "'cuda:1' does not exist: 1 CUDA GPU(s) visible (cuda:0 to cuda:0)"),
    ("tpu:7", "hf", 8, "unknown device 'tpu:7'"),
    ("cuda:x", "openai", 1, "unknown device 'cuda:x'"),
])
def test_check_device(monkeypatch, device, backend, gpus, fragment):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: gpus > 0)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: gpus)
    if fragment is None:
        check_device(device, backend)
        return
    with pytest.raises(HarnessError) as info:
        check_device(device, backend)
    assert fragment in info.value.message and info.value.field == "--device"
