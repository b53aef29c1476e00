"""Plain DPO against group-robust DPO (GRPO, SPEC.md §3) on the shipped imbalanced preference data.

    .venv/bin/python benchmarks/grpo_vs_dpo.py [--config train/grpo_example.yaml] [--modes none,group_dro]
                                               [--steps N] [--output runs/bench-grpo] [--keep]

Same base model (the embedded SmolLM2-135M-Instruct), same data, same seed, same optimiser and
steps; only `robust.mode` differs. Each model is trained on the training rows (United States 120,
Germany 48, United Kingdom 16) and evaluated against the base model as reference on the held-out
rows (24 / 16 / 12, facts never seen in training). Printed per mode: reward accuracy and DPO loss
overall, per group, in the worst group, and the gap; plus the final group weights and time. The
base model itself is evaluated too (against itself: reward accuracy 0 and loss log 2 by
definition; its log-prob accuracy says which convention it already prefers). Run directories are
written to --output, so `harness report --output ... <output>` shows them side by side.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from harness.train.config import TrainConfig, load_train_config  # noqa: E402
from harness.train.run import evaluate, train  # noqa: E402


def with_mode(config: TrainConfig, mode: str, steps: int | None) -> TrainConfig:
    spec = config.spec
    update: dict = {"robust": spec.robust.model_copy(update={"mode": mode}), "name": f"{config.name}-{mode}"}
    if steps is not None:
        update["optimizer"] = spec.optimizer.model_copy(update={"max_steps": steps})
    return TrainConfig(spec=spec.model_copy(update=update), file=config.file, doc=config.doc)


def fmt(metric, percent: bool) -> str:  # type: ignore[no-untyped-def]
    if metric is None or metric.value is None:
        return "-"
    scale, digits = (100.0, 1) if percent else (1.0, 3)

    def num(v: float) -> str:
        return f"{round(v * scale, digits) + 0.0:.{digits}f}"  # + 0.0: no "-0.000"

    text = num(metric.value)
    if metric.ci_low is not None and metric.ci_high is not None:
        text += f" [{num(metric.ci_low)}, {num(metric.ci_high)}]"
    return text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, default=ROOT / "train" / "grpo_example.yaml")
    parser.add_argument("--modes", default="none,group_dro", help="comma-separated robust modes")
    parser.add_argument("--steps", type=int, default=None, help="override optimizer.max_steps")
    parser.add_argument("--output", type=Path, default=ROOT / "runs" / "bench-grpo")
    parser.add_argument("--keep", action="store_true", help="keep the trained model folders")
    args = parser.parse_args()

    base_config = load_train_config(args.config)
    results = {}
    timing = {}
    weights = {}
    runs = args.output / "runs"
    started = time.perf_counter()
    _, results["base"] = evaluate(base_config, runs_dir=runs)
    for mode in args.modes.split(","):
        config = with_mode(base_config, mode, args.steps)
        t0 = time.perf_counter()
        outcome = train(config, output_dir=args.output / "models" / config.name,
                        log=lambda line, m=mode: print(f"[{m}] {line}", flush=True))
        timing[mode] = time.perf_counter() - t0
        weights[mode] = dict(zip(outcome.groups, outcome.weights))
        _, results[mode] = evaluate(config, model=str(outcome.model_dir), runs_dir=runs)
        if not args.keep:
            shutil.rmtree(outcome.model_dir, ignore_errors=True)

    groups = base_config.spec.data.groups or sorted({g.group for g in results["base"].groups[0].groups})
    print()
    print(f"held-out pairs: {results['base'].counts.items}; reference: the base model; "
          f"total {time.perf_counter() - started:.0f} s")
    header = ["metric"] + list(results)
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    rows = [("reward accuracy", "accuracy", True), ("worst-group reward accuracy", "worst_group_accuracy", True),
            ("reward accuracy gap", "worst_group_gap", True), ("DPO loss", "preference_loss", False),
            ("worst-group DPO loss", "worst_group_preference_loss", False),
            ("DPO loss gap", "preference_loss_gap", False), ("log-prob accuracy", "logprob_accuracy", True),
            ("worst-group log-prob accuracy", "worst_group_logprob_accuracy", True)]
    for label, name, percent in rows:
        cells = []
        for result in results.values():
            m = result.metric(name)
            cells.append(fmt(m, percent) + (f" ({m.group})" if m is not None and m.group else ""))
        print(f"| {label} | " + " | ".join(cells) + " |")
    for metric, percent in (("accuracy", True), ("preference_loss", False)):
        for g in groups:
            cells = []
            for result in results.values():
                bd = next(b for b in result.groups if b.metric == metric)
                gv = next((x for x in bd.groups if x.group == g), None)
                cells.append("-" if gv is None or gv.value is None else
                             f"{gv.value * (100 if percent else 1):.{1 if percent else 3}f} (n={gv.n})")
            label = "reward accuracy" if metric == "accuracy" else "DPO loss"
            print(f"| {label}: {g} | " + " | ".join(cells) + " |")
    print()
    for mode in weights:
        w = ", ".join(f"{g} {v:.3f}" for g, v in weights[mode].items())
        print(f"{mode}: trained in {timing[mode]:.0f} s" + ("" if mode == "none" else f"; final group weights {w}"))


if __name__ == "__main__":
    main()
