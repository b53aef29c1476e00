"""Paired model comparisons: every two models that ran the same task, on each metric that can be
compared sample by sample (harness/report/sample_metrics.py), and `harness compare`'s run lookup.

For each task and metric, each pair of shown runs is compared on the same (item, variant) samples
(harness/metrics/paired.py: difference B − A with a paired bootstrap CI, McNemar's exact test or a
bootstrap p-value) and the samples where exactly one model scores 1 are listed. Runs that do not
cover the same samples (another --limit, another task version) are listed as not comparable, with
the reason.
"""

from __future__ import annotations

from itertools import combinations
from pathlib import Path
from typing import Any

from harness.core.errors import HarnessError
from harness.metrics.paired import Comparison, compare_runs
from harness.report.leaderboard import choose
from harness.report.sample_metrics import Selection, scored, select
from harness.results.io import load_run_dirs
from harness.results.schema import RunResult, Sample

MAX_DIFFERING = 300  # samples listed per pair; the counts cover them all


def compare_pair(a: tuple[str, RunResult, list[Sample]], b: tuple[str, RunResult, list[Sample]], metric: str,
                 variant: str | None = None, group: tuple[str, str] | None = None,
                 ) -> tuple[Selection, Comparison, list[tuple[str, str]], dict, dict]:
    """`metric` of run b against run a; ValueError when they are not comparable, HarnessError when the
    metric does not apply. Returns the selection, comparison, differing keys and both scored indexes."""
    (label_a, run_a, samples_a), (label_b, run_b, samples_b) = a, b
    sel = select(run_a, samples_a, metric, variant, group)
    sel_b = select(run_b, samples_b, metric, variant, group)
    if sel_b.variants != sel.variants:
        raise ValueError(f"the runs differ in variants ({', '.join(sel.variants)} against {', '.join(sel_b.variants)})")
    sa, sb = scored(samples_a, sel), scored(samples_b, sel)
    if not sa:
        raise ValueError(f"no sample of {run_a.run_id} in {sel.label}")
    comparison, differing = compare_runs(sa, sb, name_a=label_a, name_b=label_b, seed=run_a.settings.seed,
                                         resamples=run_a.settings.bootstrap_resamples, level=run_a.settings.ci_level,
                                         metric=metric)
    return sel, comparison, differing, {(s.item_id, s.variant): s for s in sa}, {(s.item_id, s.variant): s for s in sb}


def task_comparisons(runs: list[tuple[str, RunResult]], samples: dict[str, list[Sample]],
                     metrics: list[str]) -> dict[str, Any]:
    """{"models": [label...], "metrics": {label: {"i|j": comparison or {"error": reason}}}} for one task."""
    out: dict[str, Any] = {}
    for metric in metrics:
        pairs: dict[str, Any] = {}
        label = metric
        for (i, (label_a, run_a)), (j, (label_b, run_b)) in combinations(enumerate(runs), 2):
            key = f"{i}|{j}"
            try:
                sel, comparison, differing, ia, ib = compare_pair(
                    (label_a, run_a, samples[run_a.run_id]), (label_b, run_b, samples[run_b.run_id]), metric)
            except (ValueError, HarnessError) as exc:
                pairs[key] = {"error": exc.message if isinstance(exc, HarnessError) else str(exc)}
                continue
            label = sel.label
            pairs[key] = {**comparison.model_dump(), "differing": len(differing),
                          "rows": [[item, variant, ia[(item, variant)].predicted, ib[(item, variant)].predicted,
                                    ia[(item, variant)].target, ia[(item, variant)].correct]
                                   for item, variant in differing[:MAX_DIFFERING]]}
        if any("error" not in p for p in pairs.values()):
            out[label] = pairs
    return {"models": [label for label, _ in runs], "metrics": out}


def applicable(samples: list[Sample]) -> list[str]:
    """The sample-level metrics a task's runs have: accuracy always; follow rate with an asserted option;
    flip rate with several variants; pass@1 for code."""
    variants = {s.variant for s in samples}
    return (["pass@1" if any(s.execution is not None for s in samples) else "accuracy"]
            + (["follow_rate"] if any(s.asserted is not None for s in samples) else [])
            + (["flip_rate"] if len(variants) > 1 else []))


def comparisons(cells: dict[tuple[str, str], RunResult], samples: dict[str, list[Sample]]) -> dict[str, Any]:
    """Per task with at least two models that have samples: `task_comparisons`."""
    out: dict[str, Any] = {}
    for task in sorted({t for _, t in cells}):
        runs = sorted((label, run) for (label, t), run in cells.items() if t == task and run.run_id in samples)
        if len(runs) >= 2:
            found = task_comparisons(runs, samples, applicable(samples[runs[0][1].run_id]))
            if found["metrics"]:
                out[task] = found
    return out


def resolve(ref: str, folder: Path, task: str | None = None) -> Path:
    """A run directory from a path, `model@task` or (with `task`) a model name: the newest complete run of
    that model on that task under `folder` (HarnessError naming what is there when none is)."""
    path = Path(ref)
    if (path / "results.json").is_file():
        return path
    model, sep, on = ref.rpartition("@")
    model, on = (model, on) if sep else (ref, task)
    if not on:
        raise HarnessError(f"'{ref}' is no run directory (needs results.json), MODEL@TASK, or a model with --task",
                           file=ref)
    loaded = load_run_dirs([folder]) if folder.exists() else []
    if not loaded:
        raise HarnessError(f"no runs under {folder} to find {model}@{on} in (set --runs)", field="--runs")
    shown, _ = choose([r for r, _ in loaded])
    run = shown.get((model, on))
    if run is None:
        there = sorted({f"{m}@{t}" for m, t in shown})
        raise HarnessError(f"no run of model '{model}' on task '{on}' under {folder} (there: "
                           f"{', '.join(there[:8])}{' …' if len(there) > 8 else ''})", file=ref)
    return next(d for r, d in loaded if r.run_id == run.run_id)
