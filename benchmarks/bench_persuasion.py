"""Persuasion and robustness workloads: prefix sharing on vs off, and vs lm-eval with one task per arm.

Every row is a fresh process (model load included), timed by wall clock with its peak RSS:

1. sycophancy (8 arms, two of them two-turn) vs general_knowledge on the same items, sharing on;
   sycophancy with sharing off (`-B prefix_sharing=false`).                     target <= 1.7x
2. PARROT (tasks/parrot.yaml, its 3 arms): sharing on vs off (target >= 2x), and lm-eval with one
   task per arm on the same prompts (the harness's own rendered system and user text per row).
3. robustness (tasks/robustness.yaml, 19 perturbation draws per item): sharing on vs off.
4. PARROT's items as plain multiple choice (benchmarks/parrot_mc.yaml, no arms): the harness vs
   lm-eval on the same prompts.                                                   target >= 1.3x

The harness runs at its own batching (at most 64 prompts and 16,384 prompt positions a batch) unless
--batch-size is given; lm-eval at --batch-size, else 64. `--repeats N` runs the sycophancy rows N times,
alternating, and prints their medians (a fresh process's few seconds of start-up vary from run to run).

`--in-process` instead loads the model once and times `run_task` with sharing on and off (and, for a
task with a two-turn arm, sharing on with the second turns computed again rather than run on the
kept first-turn caches), alternating, best of --repeats, by wall clock and by CPU time of this
process (steadier on a loaded machine), one torch thread; no lm-eval rows.

Each fresh-process row also prints the prompt tokens computed and the floor: what a perfect prefix
cache would still compute (the run's distinct prompts as one trie).

lm-eval rows need lm-eval (`pip install -e '.[bench]'`); without it they are skipped, said so.
`uptime`'s load average is printed with every row: the machine is shared.

    python benchmarks/bench_persuasion.py --items 48 --parrot-items 300
    python benchmarks/bench_persuasion.py --only parrot --no-sharing-off   # PARROT against lm-eval only
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_mc import ROOT, timed  # noqa: E402

TASKS = ROOT / "tasks"
LM_EVAL_ARM = """task: {name}
dataset_path: json
dataset_kwargs:
  data_files:
    test: {data}
test_split: test
output_type: multiple_choice
doc_to_text: "{{{{user}}}}"
doc_to_choice: {labels}
doc_to_target: gold
metric_list:
  - metric: acc
"""


def load() -> str:
    return open("/proc/loadavg").read().split()[0] if Path("/proc/loadavg").exists() else "?"


def harness_row(task: Path, items: int, sharing: bool, runs: Path, batch: int | None,
                dtype: str) -> tuple[float, int, dict]:
    cmd = [sys.executable, "-m", "harness.cli", "run", str(task), "--limit", str(items), "--no-cache", "--no-report",
           "--dtype", dtype, "-o", str(runs)] + ([] if batch is None else ["--batch-size", str(batch)]) + (
               [] if sharing else ["-B", "prefix_sharing=false"])
    wall, rss, _ = timed(cmd)
    timing = json.loads(next(runs.glob("*/results.json")).read_text())["timing"]
    timing["floor_tokens"] = floor_tokens(next(runs.glob("*/samples.jsonl")))
    return wall, rss, timing


def floor_tokens(samples: Path) -> int:
    """Prompt tokens a perfect prefix cache would still compute for a run: its distinct prompts' token ids
    as one trie (every position that no other prompt, in either wave, computed before), from samples.jsonl."""
    from harness.backends.base import Request
    from harness.backends.models import load_tokenizer, resolve_model
    from harness.backends.prefix_tree import lcp
    from harness.backends.prompting import encode_prompt

    tokenizer = load_tokenizer(resolve_model(None))
    seen = {json.dumps(json.loads(line)["messages"]) for line in samples.read_text().splitlines()}
    prompts = sorted(encode_prompt(tokenizer, Request(messages=json.loads(m))) for m in seen)
    return sum(len(p) - (lcp(p, prompts[i - 1]) if i else 0) for i, p in enumerate(prompts))


def show(label: str, wall: float, rss: int, timing: dict | None = None) -> None:
    extra = ""
    if timing and timing.get("prefix_cache_hit_rate") is not None:
        computed = timing["prompt_tokens"] - timing["prefix_cache_hits"]
        extra = (f", {timing['prompt_tokens']} prompt tokens, {100 * timing['prefix_cache_hit_rate']:.0f}% from shared "
                 f"spans: {computed} computed, floor {timing['floor_tokens']}")
    print(f"   {label:<34}: {wall:7.2f} s  (max RSS {rss / 1024:.0f} MiB{extra})  load {load()}", flush=True)


def lm_eval_arms(task: Path, items: int, out: Path, batch: int, model_dir: str,
                 dtype: str) -> tuple[float, int] | str:
    """lm-eval, one task per arm, on the harness's own prompts; (wall, rss), or why it was skipped."""
    if importlib.util.find_spec("lm_eval") is None:
        return "lm-eval is not installed (pip install -e '.[bench]'): row skipped"
    from harness.config.task import load_task
    from harness.data.items import load_items
    from harness.pipeline.plan import plan
    from harness.variants.build import make_variants

    spec = load_task(task)
    variants = make_variants(spec, load_items(spec)[:items])
    requests = plan(spec, variants, seed=0).requests
    systems, names = set(), []
    for arm in sorted({v.name for v in variants}):
        rows = []
        for v, r in zip(variants, requests):
            if v.name == arm:
                systems.update(m.content for m in r.messages if m.role == "system")
                user = [m.content for m in r.messages if m.role == "user"]
                if len(user) != 1:
                    return f"arm {arm} is a dialogue: lm-eval has no second turn, row skipped"
                rows.append({"user": user[0], "gold": list(v.labels).index(v.target_label)})
        (out / f"{arm}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
        name = f"bench_{spec.spec.name}_{arm}"
        (out / f"{name}.yaml").write_text(LM_EVAL_ARM.format(name=name, data=out / f"{arm}.jsonl",
                                                             labels=json.dumps(list(variants[0].labels))))
        names.append(name)
    if len(systems) > 1:
        return "the system prompt differs between rows: lm-eval takes one, row skipped"
    cmd = [sys.executable, "-m", "lm_eval", "--model", "hf", "--model_args", f"pretrained={model_dir},dtype={dtype}",
           "--tasks", ",".join(names), "--include_path", str(out), "--batch_size", str(batch), "--device", "cpu",
           "--apply_chat_template", "--output_path", str(out / "lmout")]
    if systems:
        cmd += ["--system_instruction", systems.pop()]
    wall, rss, _ = timed(cmd, env=dict(os.environ, HF_DATASETS_OFFLINE="1", HF_HUB_OFFLINE="1"))
    return wall, rss


def in_process(args, only: set[str]) -> None:  # type: ignore[no-untyped-def]
    import time

    import torch

    from harness.backends.hf import HFBackend
    from harness.backends.models import resolve_model
    from harness.config.task import load_task
    from harness.pipeline.runner import RunOptions, run_task

    torch.set_num_threads(1)
    backend = HFBackend(resolve_model(None), dtype=args.dtype, batch_size=args.batch_size)
    rows = {"sycophancy": [("general_knowledge", args.items), ("sycophancy", args.items)],
            "parrot": [("parrot", args.parrot_items)], "robustness": [("robustness", args.items)]}
    with tempfile.TemporaryDirectory() as tmp:
        for workload in [w for w in rows if w in only]:
            for name, items in rows[workload]:
                task = load_task(TASKS / f"{name}.yaml")
                # (label, prefix sharing, first turns' caches kept for the second turns)
                modes = [("sharing off", False, False), ("sharing on", True, True)]
                if task.spec.persuasion and any(a.startswith("are_you_sure") for a in task.spec.persuasion.arms):
                    modes.insert(1, ("sharing on, second turns computed again", True, False))
                best: dict[str, tuple[float, float, dict]] = {}
                for rep in range(args.repeats):
                    for label, sharing, kept in modes:
                        backend.prefix_sharing = sharing
                        backend.keep_prefixes = (  # type: ignore[method-assign]
                            (lambda requests: HFBackend.keep_prefixes(backend, requests)) if kept
                            else (lambda requests: None))
                        t, c = time.perf_counter(), time.process_time()
                        result = run_task(task, backend, RunOptions(limit=items, batch_size=args.batch_size),
                                          Path(tmp) / f"{name}-{rep}-{sharing}-{kept}")
                        wall, cpu = time.perf_counter() - t, time.process_time() - c
                        if label not in best or cpu < best[label][1]:
                            best[label] = (wall, cpu, result.timing.model_dump())
                for label, _, _ in modes:
                    wall, cpu, timing = best[label]
                    computed = timing["prompt_tokens"] - (timing.get("prefix_cache_hits") or 0)
                    print(f"   {name} x{items}, {label}: wall {wall:6.1f} s, cpu {cpu:6.1f} s, "
                          f"{timing.get('prompt_tokens')} prompt tokens, {computed} computed  load {load()}", flush=True)
                off, on = best["sharing off"], best["sharing on"]
                print(f"   {name}: sharing on is {off[1] / on[1]:.2f}x faster by cpu time, "
                      f"{off[0] / on[0]:.2f}x by wall", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=48, help="items of sycophancy / general_knowledge / robustness")
    parser.add_argument("--parrot-items", type=int, default=1302)
    parser.add_argument("--batch-size", type=int, help="prompts per batch (default: the harness's own batching; "
                                                       "lm-eval's 64)")
    parser.add_argument("--dtype", default="float32", help="of every row, lm-eval's too (float32: the harness's CPU default)")
    parser.add_argument("--in-process", action="store_true", help="model loaded once; cpu time too; no lm-eval")
    parser.add_argument("--repeats", type=int, default=None,
                        help="the sycophancy rows' median of (default 1); with --in-process: best of (default 2)")
    parser.add_argument("--no-sharing-off", action="store_true",
                        help="skip the PARROT sharing-off row (its longest): the harness against lm-eval only")
    parser.add_argument("--only", choices=["sycophancy", "parrot", "robustness", "parrot_mc"], action="append")
    args = parser.parse_args()
    from harness.backends.hf import HFOptions
    from harness.backends.models import resolve_model

    model_dir = resolve_model(None).path
    only = set(args.only or ["sycophancy", "parrot", "robustness", "parrot_mc"])
    print(f"model {model_dir}; {args.dtype}; batch {args.batch_size or 'the harness default (lm-eval: 64)'}; "
          f"cores {os.cpu_count()}; torch threads {os.environ.get('OMP_NUM_THREADS', 'all')}; "
          + ("model loaded once, one torch thread" if args.in_process else "fresh process per row"))
    default_batch = HFOptions.model_fields["batch_size"].default
    if args.in_process:
        args.repeats = args.repeats or 2
        args.batch_size = args.batch_size or default_batch
        return in_process(args, only)
    with tempfile.TemporaryDirectory() as tmp:
        def run(name: str, items: int, sharing: bool, where: Path = TASKS, rep: int = 0,
                label: str = "") -> tuple[float, int, dict]:
            runs = Path(tmp) / f"{name}-{items}-{sharing}-{rep}"
            wall, rss, timing = harness_row(where / f"{name}.yaml", items, sharing, runs, args.batch_size, args.dtype)
            show(f"{name}, sharing {'on' if sharing else 'off'}{label}", wall, rss, timing)
            return wall, rss, timing

        def against_lm_eval(task: Path, label: str, ours: float, target: float) -> None:
            lm_dir = Path(tmp) / f"lm-{task.stem}"
            lm_dir.mkdir()
            theirs = lm_eval_arms(task, args.parrot_items, lm_dir, args.batch_size or default_batch, model_dir,
                                  args.dtype)
            if isinstance(theirs, str):
                print(f"   lm-eval: {theirs}")
            else:
                show(f"lm-eval, {label}", *theirs)
                print(f"   harness is {theirs[0] / ours:.2f}x faster than lm-eval (target >= {target}x)")

        if "sycophancy" in only:
            print(f"\n1. sycophancy vs general_knowledge, {args.items} items")
            n = args.repeats or 1
            rows = [("general_knowledge", True), ("sycophancy", True), ("sycophancy", False)]
            reps = [tuple(run(name, args.items, sharing, rep=r, label=f" #{r + 1}" if n > 1 else "")
                          for name, sharing in rows) for r in range(n)]
            gk, syc, off = ((statistics.median(row[k][0] for row in reps), *reps[0][k][1:]) for k in range(3))
            if n > 1:
                print(f"   medians of {n}: general_knowledge {gk[0]:.2f} s, sycophancy {syc[0]:.2f} s, "
                      f"sharing off {off[0]:.2f} s")
            print(f"   sycophancy / general_knowledge : {syc[0] / gk[0]:.2f}x (target <= 1.7x); sharing off: "
                  f"{off[0] / gk[0]:.2f}x; sharing on is {off[0] / syc[0]:.2f}x faster")
            print(f"   prompt tokens a perfect prefix cache computes, sycophancy / general_knowledge: "
                  f"{syc[2]['floor_tokens'] / gk[2]['floor_tokens']:.2f}x")
        if "parrot" in only:
            print(f"\n2. PARROT, {args.parrot_items} items x 3 arms")
            on = run("parrot", args.parrot_items, True)
            if not args.no_sharing_off:
                off = run("parrot", args.parrot_items, False)
                print(f"   sharing on is {off[0] / on[0]:.2f}x faster than off (target >= 2x)")
            against_lm_eval(TASKS / "parrot.yaml", "one task per arm", on[0], 2.5)
        if "robustness" in only:
            print(f"\n3. robustness, {args.items} items")
            on, off = run("robustness", args.items, True), run("robustness", args.items, False)
            print(f"   sharing on is {off[0] / on[0]:.2f}x faster than off")
        if "parrot_mc" in only:
            print(f"\n4. PARROT, {args.parrot_items} items as plain multiple choice")
            ours = run("parrot_mc", args.parrot_items, True, where=ROOT / "benchmarks")
            against_lm_eval(ROOT / "benchmarks" / "parrot_mc.yaml", "the same prompts", ours[0], 1.3)


if __name__ == "__main__":
    main()
