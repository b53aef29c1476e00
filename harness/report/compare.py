"""Paired model comparisons for the report: every two models that ran the same task.

For each task, each pair of its latest runs is compared on the same (item, variant) samples
(harness/metrics/paired.py: accuracy difference B − A with a paired bootstrap CI, McNemar's exact
test or a bootstrap p-value) and the samples where exactly one model is right are listed. Runs
that do not cover the same samples (another --limit, another task version) are listed as not
comparable, with the reason.
"""

from __future__ import annotations

from itertools import combinations
from typing import Any

from harness.metrics.paired import compare_runs
from harness.results.schema import RunResult, Sample

MAX_DIFFERING = 300  # samples listed per pair; the counts cover them all


def task_comparisons(runs: list[tuple[str, RunResult]], samples: dict[str, list[Sample]]) -> dict[str, Any]:
    """{"models": [label...], "pairs": {"i|j": comparison or {"error": reason}}} for one task's runs,
    `runs` as (model label, run) sorted by label."""
    pairs: dict[str, Any] = {}
    for (i, (label_a, run_a)), (j, (label_b, run_b)) in combinations(enumerate(runs), 2):
        key = f"{i}|{j}"
        try:
            comparison, differing = compare_runs(samples[run_a.run_id], samples[run_b.run_id], name_a=label_a,
                                                 name_b=label_b, seed=run_a.settings.seed,
                                                 resamples=run_a.settings.bootstrap_resamples,
                                                 level=run_a.settings.ci_level)
        except ValueError as exc:
            pairs[key] = {"error": str(exc)}
            continue
        by_key_a = {(s.item_id, s.variant): s for s in samples[run_a.run_id]}
        by_key_b = {(s.item_id, s.variant): s for s in samples[run_b.run_id]}
        pairs[key] = {
            **comparison.model_dump(),
            "differing": len(differing),
            "rows": [[item, variant, by_key_a[(item, variant)].predicted, by_key_b[(item, variant)].predicted,
                      by_key_a[(item, variant)].target, by_key_a[(item, variant)].correct]
                     for item, variant in differing[:MAX_DIFFERING]],
        }
    return {"models": [label for label, _ in runs], "pairs": pairs}


def comparisons(cells: dict[tuple[str, str], RunResult], samples: dict[str, list[Sample]]) -> dict[str, Any]:
    """Per task with at least two models that have samples: `task_comparisons`."""
    out: dict[str, Any] = {}
    for task in sorted({t for _, t in cells}):
        runs = sorted((label, run) for (label, t), run in cells.items() if t == task and run.run_id in samples)
        if len(runs) >= 2:
            out[task] = task_comparisons(runs, samples)
    return out
