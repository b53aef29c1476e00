"""GPU throughput: the harness's transformers and vLLM backends on a task's prompts, for a CUDA machine.

Rows (model loaded once per backend, best of --repeats):
- transformers (`hf`, prefix sharing on and off): items/s and prompt tokens/s;
- vLLM, when installed: the harness's backend vs raw `LLM.generate` on the same token ids with the same
  SamplingParams (one step, the option labels' log-probs), and their ratio (the harness's overhead).

    python benchmarks/bench_gpu.py --task tasks/parrot.yaml --items 1302

Without CUDA it stops with one line (no GPU numbers can be taken here).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def best(fn, repeats: int) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def hf_rows(model, requests, items: int, args) -> int:  # type: ignore[no-untyped-def]
    """The transformers rows; returns the prompt tokens."""
    import torch

    from harness.backends.hf import HFBackend
    from harness.backends.prompting import encode_prompt

    hf = HFBackend(model, dtype=args.dtype, device="cuda", batch_size=args.batch_size)
    tokens = sum(len(encode_prompt(hf.tokenizer, r)) for r in requests)
    for sharing in (True, False):
        hf.prefix_sharing = sharing
        s = best(lambda: hf.run(requests), args.repeats)
        print(f"   hf, sharing {'on ' if sharing else 'off'} : {s:.2f} s  {items / s:.1f} items/s  "
              f"{tokens / s:.0f} prompt tokens/s  peak {torch.cuda.max_memory_allocated() / 2**30:.1f} GiB")
    hf.model = None
    torch.cuda.empty_cache()
    return tokens


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--task", default=str(ROOT / "tasks" / "parrot.yaml"))
    parser.add_argument("--items", type=int, default=1302)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--dtype", default="bfloat16")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    import torch

    if not torch.cuda.is_available():
        sys.exit("bench_gpu.py needs a CUDA GPU (torch.cuda.is_available() is False on this machine)")
    from harness.backends.models import resolve_model
    from harness.backends.prompting import encode_prompt
    from harness.config.task import load_task
    from harness.data.items import load_items
    from harness.pipeline.plan import plan
    from harness.variants.build import make_variants

    task = load_task(Path(args.task))
    items = load_items(task)[:args.items]
    requests = [r for r in plan(task, make_variants(task, items), seed=0).unique if not r.generate]
    model = resolve_model(None)
    print(f"{torch.cuda.get_device_name(0)}; {task.spec.name}: {len(items)} items, {len(requests)} requests; "
          f"{args.dtype}; batch {args.batch_size}")

    tokens = hf_rows(model, requests, len(items), args)
    try:
        import vllm  # noqa: F401
    except ImportError:
        print("   vLLM is not installed: its rows skipped")
        return
    from harness.backends.vllm import VLLMBackend

    ours = VLLMBackend(model, dtype=args.dtype)
    prompts = [{"prompt_token_ids": encode_prompt(ours.tokenizer, r)} for r in requests]
    params = [ours._params(r) for r in requests]
    ours.run(requests)  # warm-up: compile, caches
    harness_s = best(lambda: ours.run(requests), args.repeats)
    raw_s = best(lambda: ours.llm.generate(prompts, params, use_tqdm=False), args.repeats)
    print(f"   vllm, harness    : {harness_s:.2f} s  {len(items) / harness_s:.1f} items/s  {tokens / harness_s:.0f} "
          f"prompt tokens/s")
    print(f"   vllm, raw generate: {raw_s:.2f} s  -> harness / raw = {harness_s / raw_s:.2f}")
    ours.close()


if __name__ == "__main__":
    main()
