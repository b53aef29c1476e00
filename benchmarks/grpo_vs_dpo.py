"""Plain DPO, GRPO and its controls over several training seeds, with paired bootstrap CIs clustered by fact.

    .venv/bin/python benchmarks/grpo_vs_dpo.py [--config train/grpo_example.yaml] [--seeds 0,1,2]
        [--steps 12] [--variants dpo,grpo,balanced,importance_inverse_square,importance_balanced]
        [--resamples 2000] [--output runs/bench-grpo/grpo_vs_dpo.json] [--analyse-only] [--threads N]

Variants (the config's everything else: same base model, data, optimiser, steps, bf16 autocast):
- dpo: robust.mode none, plain DPO (TRL's loss)
- grpo: robust.mode group_dro with the config's η (adaptive group weights)
- balanced: group_dro with η = 0, the control: fixed uniform α on the N/N_g-scaled group losses,
  so every pair weighs ∝ 1/N_g, and nothing adapts
- importance_inverse_square: fixed α_g ∝ 1/N_g on the scaled group losses, each pair ∝ 1/N_g²
  (the official GRPO code's importance-sampling baseline)
- importance_balanced: each pair ∝ 1/N_g, normalised by the batch's total weight

Every (variant, seed) trains a fresh copy of the base model in memory and is scored in float32
against the base model on the held-out pairs (facts never seen in training). Per-pair DPO loss and
reward correctness are appended to --output as each run ends, so an interrupted benchmark resumes
where it stopped; --analyse-only prints the tables from that file. The tables: per variant the
worst-group DPO loss and reward accuracy (mean over seeds; per seed) with CIs, and paired
differences (harness/train/compare.py: facts resampled, with and without resampling the seeds).
Also measured once: how many weights training changed, in float32 and after bf16 rounding, and
GRPO's held-out loss when its weights are loaded in bf16.
"""

from __future__ import annotations

import argparse
import copy
import gc
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from harness.train.build import load_model, load_tokenizer, quiet, resolve, uses_chat  # noqa: E402
from harness.train.compare import WorstGroupComparison, compare_worst_group  # noqa: E402
from harness.train.config import TrainConfig, load_train_config  # noqa: E402
from harness.train.preferences import load_preferences  # noqa: E402
from harness.train.run import fit  # noqa: E402
from harness.train.scoring import ReferenceCache, score_pairs  # noqa: E402

VARIANTS = {
    "dpo": {"mode": "none"},
    "grpo": {"mode": "group_dro"},
    "balanced": {"mode": "group_dro", "step_size": 0.0},
    "importance_inverse_square": {"mode": "importance_inverse_square"},
    "importance_balanced": {"mode": "importance_balanced"},
}
CONTRASTS = [("dpo", "grpo"), ("dpo", "balanced"), ("dpo", "importance_inverse_square"),
             ("dpo", "importance_balanced"), ("balanced", "grpo"), ("importance_balanced", "grpo")]


def variant_config(config: TrainConfig, variant: str, seed: int, steps: int) -> TrainConfig:
    spec = config.spec
    update = {"robust": spec.robust.model_copy(update=VARIANTS[variant]), "seed": seed,
              "name": f"{config.name}-{variant}-s{seed}",
              "optimizer": spec.optimizer.model_copy(update={"max_steps": steps}),
              "output": spec.output.model_copy(update={"save_steps": None, "report_to": []})}
    return TrainConfig(spec=spec.model_copy(update=update), file=config.file, doc=config.doc)


def changed_weights(base: object, trained: object) -> dict[str, float]:
    """Share of weights that differ from the base: in float32, and after rounding both to bfloat16."""
    import torch

    total = changed = changed_bf16 = 0
    base_params = dict(base.named_parameters())  # type: ignore[attr-defined]
    for name, p in trained.named_parameters():  # type: ignore[attr-defined]
        b = base_params[name].detach()
        t = p.detach()
        total += t.numel()
        changed += int((t != b).sum())
        changed_bf16 += int((t.to(torch.bfloat16) != b.to(torch.bfloat16)).sum())
    return {"float32": changed / total, "bfloat16": changed_bf16 / total, "parameters": total}


def run_all(args: argparse.Namespace, config: TrainConfig, done: dict) -> None:  # type: ignore[type-arg]
    import torch

    quiet()
    data = load_preferences(config)
    base = resolve(config.spec.model, config, "model")
    tokenizer = load_tokenizer(base.path)
    chat = uses_chat(config, tokenizer)
    base_model, ref_model = load_model(base.path), load_model(base.path).eval()
    reference: ReferenceCache = {}  # held-out pairs, float32
    train_reference: ReferenceCache = {}  # training pairs, under the config's autocast, as training computes them
    done.setdefault("pairs", [{"id": r.id, "group": r.group, "cluster": r.unit} for r in data.eval])
    done.setdefault("runs", {})
    for seed in args.seeds:
        for variant in args.variants:
            key = f"{variant}/{seed}"
            if key in done["runs"]:
                continue
            cfg = variant_config(config, variant, seed, args.steps)
            started = time.perf_counter()
            with tempfile.TemporaryDirectory(prefix="bench-grpo-") as tmp:
                policy = copy.deepcopy(base_model)
                trainer = fit(cfg, data, policy, tokenizer, Path(tmp), ref_model=ref_model,
                              reference_cache=train_reference, log=lambda line, k=key: print(f"[{k}] {line}", flush=True) if args.verbose else None)
                trained_s = time.perf_counter() - started
                scores = score_pairs(trainer, data.eval, data.groups, chat=chat, batch_size=config.spec.eval.batch_size,
                                     reference=reference)
            by_id = {s.row.id: s for s in scores}
            run = {"loss": [by_id[p["id"]].loss for p in done["pairs"]],
                   "reward_correct": [by_id[p["id"]].reward_correct for p in done["pairs"]],
                   "final_group_weights": dict(zip(data.groups, trainer.group_weights.weights)),
                   "warnings": list(trainer.warnings), "train_s": round(trained_s, 1),
                   "total_s": round(time.perf_counter() - started, 1)}
            if variant == "grpo" and "dtype_check" not in done:
                done["dtype_check"] = {"seed": seed, **changed_weights(base_model, policy)}
                policy.to(torch.bfloat16)
                bf16 = score_pairs(trainer, data.eval, data.groups, chat=chat,
                                   batch_size=config.spec.eval.batch_size, reference=reference)
                done["dtype_check"]["loss_float32"] = float(np.mean(run["loss"]))
                done["dtype_check"]["loss_bfloat16"] = float(np.mean([s.loss for s in bf16]))
            done["runs"][key] = run
            args.output.write_text(json.dumps(done, indent=1) + "\n", encoding="utf-8")
            print(f"{key}: trained {run['train_s']} s, {run['total_s']} s in all; held-out DPO loss "
                  f"{np.mean(run['loss']):.4f}", flush=True)
            del trainer, policy
            gc.collect()


def table(comparison: WorstGroupComparison, percent: bool) -> list[str]:
    scale, digits = (100.0, 1) if percent else (1.0, 3)

    def num(v: float) -> str:
        return f"{round(v * scale, digits) + 0.0:.{digits}f}"

    def ci(pair: tuple[float, float]) -> str:
        return f"[{num(pair[0])}, {num(pair[1])}]"

    lines = [f"### {comparison.metric}", "", "| variant | mean over seeds | CI facts | CI facts+seeds | per seed | "
             "worst group per seed |", "|---|---|---|---|---|---|"]
    for e in comparison.estimates:
        lines.append(f"| {e.variant} | {num(e.value)} | {ci(e.ci_facts)} | {ci(e.ci_facts_seeds)} | "
                     f"{', '.join(num(v) for v in e.per_seed)} | {', '.join(e.worst_groups)} |")
    lines += ["", "| difference (b − a) | value | CI facts | CI facts+seeds | p | per seed |",
              "|---|---|---|---|---|---|"]
    for d in comparison.differences:
        lines.append(f"| {d.b} − {d.a} | {num(d.diff)} | {ci(d.ci_facts)} | {ci(d.ci_facts_seeds)} | "
                     f"{d.p_value:.3f} | {', '.join(num(v) for v in d.per_seed)} |")
    return lines + ["", comparison.method, ""]


def analyse(done: dict, variants: list[str], seeds: list[int], resamples: int) -> None:  # type: ignore[type-arg]
    pairs = done["pairs"]
    groups, clusters = [p["group"] for p in pairs], [p["cluster"] for p in pairs]
    have = [v for v in variants if all(f"{v}/{s}" in done["runs"] for s in seeds)]
    contrasts = [c for c in CONTRASTS if c[0] in have and c[1] in have]
    for metric, field, higher, percent in (("worst-group DPO loss (held-out)", "loss", False, False),
                                           ("worst-group reward accuracy (held-out)", "reward_correct", True, True)):
        values = {v: np.asarray([done["runs"][f"{v}/{s}"][field] for s in seeds], dtype=float) for v in have}
        comparison = compare_worst_group(values, groups, clusters, metric=metric, higher_is_better=higher,
                                         contrasts=contrasts, resamples=resamples)
        print("\n".join(table(comparison, percent)))
    print("| variant | overall DPO loss | overall reward accuracy | final group weights (seed "
          f"{seeds[0]}) | train s per run |\n|---|---|---|---|---|")
    for v in have:
        runs = [done["runs"][f"{v}/{s}"] for s in seeds]
        weights = ", ".join(f"{g} {w:.3f}" for g, w in runs[0]["final_group_weights"].items())
        if VARIANTS[v]["mode"] == "none":
            weights = "— (the batch mean)"
        print(f"| {v} | {np.mean([np.mean(r['loss']) for r in runs]):.3f} | "
              f"{100 * np.mean([np.mean(r['reward_correct']) for r in runs]):.1f} | {weights} | "
              f"{np.mean([r['train_s'] for r in runs]):.0f} |")
    warned = {k: r["warnings"] for k, r in done["runs"].items() if r["warnings"]}
    if warned:
        print(f"\nwarnings: {warned}")
    if "dtype_check" in done:
        d = done["dtype_check"]
        print(f"\nweights changed by training (grpo, seed {d['seed']}, {d['parameters']:,} parameters): "
              f"{100 * d['float32']:.1f}% in float32, {100 * d['bfloat16']:.1f}% after rounding base and trained "
              f"weights to bfloat16; held-out DPO loss {d['loss_float32']:.4f} in float32, {d['loss_bfloat16']:.4f} "
              "with the trained policy in bfloat16")
    print(f"\nheld-out pairs: {len(pairs)} in {len(set(clusters))} facts; seeds {seeds}; "
          f"{sum(r['total_s'] for r in done['runs'].values()):.0f} s of runs in all")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, default=ROOT / "train" / "grpo_example.yaml")
    parser.add_argument("--variants", default=",".join(VARIANTS), type=lambda s: s.split(","))
    parser.add_argument("--seeds", default="0,1,2", type=lambda s: [int(x) for x in s.split(",")])
    parser.add_argument("--steps", type=int, default=12, help="optimiser steps per run")
    parser.add_argument("--resamples", type=int, default=2000)
    parser.add_argument("--output", type=Path, default=ROOT / "runs" / "bench-grpo" / "grpo_vs_dpo.json")
    parser.add_argument("--analyse-only", action="store_true", help="print the tables from --output; train nothing")
    parser.add_argument("--verbose", action="store_true", help="print every training step")
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    args = parser.parse_args()
    unknown = [v for v in args.variants if v not in VARIANTS]
    if unknown:
        parser.error(f"unknown variants {unknown}; choose from {', '.join(VARIANTS)}")
    config = load_train_config(args.config)
    done = json.loads(args.output.read_text()) if args.output.exists() else {}
    settings = {"config": str(args.config), "steps": args.steps, "config_hash": config.config_hash}
    if done and done.get("settings") != settings:
        parser.error(f"{args.output} holds runs of other settings ({done.get('settings')}): use another --output")
    done["settings"] = settings
    started = time.perf_counter()
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    if not args.analyse_only:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        run_all(args, config, done)
        print(f"\nthis invocation: {time.perf_counter() - started:.0f} s wall")
    analyse(done, args.variants, args.seeds, args.resamples)


if __name__ == "__main__":
    main()
