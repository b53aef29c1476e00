"""Accuracy overall and per group: worst group, best group and the gap (SPEC.md §4.4).

Definitions
- accuracy = mean over samples of 1[predicted = gold]; an invalid answer counts as wrong.
- accuracy_g = the same over the samples of group g.
- worst_group_accuracy = min_g accuracy_g over groups with at least `min_group_size` items
  (smaller groups are reported and flagged, never crowned worst).
- worst_group_gap = accuracy - worst_group_accuracy.
CIs: accuracy, invalid_rate and every group's accuracy are proportions: Wilson score interval on
the item-clustered effective n (`harness.metrics.bootstrap`), valid at 0, 1 and small n. The CI
of worst_group_accuracy is that of the worst group's own accuracy (the group is chosen on the
point estimates; a bootstrap of the minimum itself is biased low); the gap's CI is a percentile
bootstrap over base items resampled within each group (stratified), from (accuracy -
accuracy_worst) recomputed in every replicate.
"""

from __future__ import annotations

import numpy as np
from pydantic import Field

from harness.metrics.bootstrap import (
    bootstrap_method,
    named_rng,
    percentile_interval,
    proportion_interval,
    resample_means,
    wilson_method,
)
from harness.results.schema import Estimate, GroupBreakdown, GroupValue, Metric


class Estimated(Estimate):
    """An estimate and how its interval was computed; `method` stays out of `model_dump()`, so the
    estimate spreads into a Metric or GroupValue as before and the caller says how it was computed."""

    method: str = Field("", exclude=True)


TIE = 1e-12  # values this close are the same value (floating-point noise in means)


def estimate_mean(values: np.ndarray, clusters: np.ndarray, *, seed: int, name: str, resamples: int,
                  level: float, proportion: bool = False) -> tuple[Estimated, np.ndarray]:
    """The mean with its interval and the bootstrap replicates (clusters resampled). A `proportion`
    (values 0/1) gets the Wilson interval on the effective n; any other mean the percentile interval."""
    reps = resample_means(values, clusters, named_rng(seed, name), resamples)
    if proportion:
        low, high, n_eff = proportion_interval(values, clusters, level)
        method = wilson_method(level, n_eff, len(values))
    else:
        low, high = percentile_interval(reps, level)
        method = bootstrap_method(level, resamples, seed)
    return Estimated(value=float(values.mean()), ci_low=low, ci_high=high, n=len(values), method=method), reps


def extreme(groups: list[GroupValue], *, worst: bool, higher_is_better: bool = True,
            include_small: bool = False) -> list[str]:
    """Every group at the worst (or best) value, in name order: a tie names them all. Only groups with
    min_group_size+ items compete unless `include_small`."""
    pool = [g for g in groups if (include_small or not g.small) and g.value is not None]
    if not pool:
        return []
    sign = 1.0 if higher_is_better == worst else -1.0  # the extreme is the minimum of sign * value
    edge = min(sign * g.value for g in pool)  # type: ignore[operator]
    return sorted(g.group for g in pool if abs(sign * g.value - edge) <= TIE)  # type: ignore[operator]


def tied(names: list[str]) -> list[str]:
    """`tied_groups` of a metric: the names when several tie, else none (`group` names the one)."""
    return names if len(names) > 1 else []


def group_breakdown(values: np.ndarray, clusters: np.ndarray, labels: list[str], key: str, *,
                    seed: int, resamples: int, level: float, min_group_size: int,
                    metric: str = "accuracy", variant: str | None = None, higher_is_better: bool = True,
                    proportion: bool = False) -> tuple[GroupBreakdown, dict[str, np.ndarray]]:
    labels_arr = np.asarray(labels)
    groups: list[GroupValue] = []
    reps: dict[str, np.ndarray] = {}
    for g in sorted(set(labels)):
        mask = labels_arr == g
        est, reps[g] = estimate_mean(values[mask], clusters[mask], seed=seed,
                                     name=f"{metric}/{variant}/{key}={g}" if variant else f"{key}={g}",
                                     resamples=resamples, level=level, proportion=proportion)
        items = len(set(clusters[mask].tolist()))
        groups.append(GroupValue(group=g, items=items, small=items < min_group_size, **est.model_dump()))
    worst_groups = extreme(groups, worst=True, higher_is_better=higher_is_better)
    best_groups = extreme(groups, worst=False, higher_is_better=higher_is_better)
    ci = (wilson_method(level) + ", each group's own" if proportion
          else bootstrap_method(level, resamples, seed, f"each group of '{key}'"))
    return GroupBreakdown(key=key, metric=metric, variant=variant, higher_is_better=higher_is_better,
                          min_group_size=min_group_size, groups=groups, worst=next(iter(worst_groups), None),
                          best=next(iter(best_groups), None), worst_groups=worst_groups, best_groups=best_groups,
                          ci_method=ci), reps


def accuracy_metrics(correct: list[bool], invalid: list[bool], items: list[str],
                     groups: dict[str, list[str]], *, wanted: list[str], seed: int, resamples: int,
                     level: float, min_group_size: int) -> tuple[list[Metric], list[GroupBreakdown]]:
    values = np.asarray(correct, dtype=float)
    clusters = np.asarray(items)
    metrics: list[Metric] = []
    overall, _ = estimate_mean(values, clusters, seed=seed, name="accuracy", resamples=resamples, level=level,
                               proportion=True)
    if "accuracy" in wanted:
        metrics.append(Metric(name="accuracy", formula="mean_i 1[predicted_i = gold_i] (invalid = wrong)",
                              ci_method=overall.method, **overall.model_dump()))
    if "invalid_rate" in wanted:
        est, _ = estimate_mean(np.asarray(invalid, float), clusters, seed=seed, name="invalid_rate",
                               resamples=resamples, level=level, proportion=True)
        metrics.append(Metric(name="invalid_rate", formula="mean_i 1[answer could not be parsed]",
                              ci_method=est.method, **est.model_dump()))
    breakdowns = []
    for n, (key, labels) in enumerate(groups.items()):
        bd, reps = group_breakdown(values, clusters, labels, key, seed=seed, resamples=resamples,
                                   level=level, min_group_size=min_group_size, proportion=True)
        breakdowns.append(bd)
        if n > 0 or "worst_group_accuracy" not in wanted:
            continue  # the headline worst group uses the first group key
        gap_ci = bootstrap_method(level, resamples, seed, f"each group of '{key}'")
        metrics.extend(_worst_metrics(bd, reps, overall, gap_ci, level))
    return metrics, breakdowns


def _worst_metrics(bd: GroupBreakdown, reps: dict[str, np.ndarray], overall: Estimate, gap_ci: str,
                   level: float) -> list[Metric]:
    lowest = extreme(bd.groups, worst=True, include_small=True)
    low = next(g for g in bd.groups if g.group == lowest[0])
    minimum = Metric(name="min_group_accuracy", value=low.value, ci_low=low.ci_low, ci_high=low.ci_high, n=low.n,
                     group_key=bd.key, group=low.group, tied_groups=tied(lowest), small=low.small,
                     ci_method=f"{bd.ci_method} (the group's own interval)",
                     formula=f"min_g accuracy_g over every group of '{bd.key}', small groups included "
                             f"(small: fewer than {bd.min_group_size} items)")
    if not bd.worst_groups:
        return [Metric(name="worst_group_accuracy", value=None, n=0, group_key=bd.key,
                       formula=f"min_g accuracy_g over groups of '{bd.key}' with >= {bd.min_group_size} items",
                       reason=f"no group of '{bd.key}' has {bd.min_group_size}+ items"), minimum]
    worst = next(g for g in bd.groups if g.group == bd.worst)
    ties = tied(bd.worst_groups)
    sizes = np.asarray([g.n for g in bd.groups], float)
    overall_reps = np.stack([reps[g.group] for g in bd.groups]).T @ sizes / sizes.sum()
    gap_low, gap_high = percentile_interval(overall_reps - reps[worst.group], level)
    return [
        Metric(name="worst_group_accuracy", value=worst.value, ci_low=worst.ci_low, ci_high=worst.ci_high, n=worst.n,
               group_key=bd.key, group=worst.group, tied_groups=ties, small=False,
               ci_method=f"{bd.ci_method} (the worst group's own interval)",
               formula=f"min_g accuracy_g over groups of '{bd.key}' with >= {bd.min_group_size} items"),
        Metric(name="worst_group_gap", value=float(overall.value - worst.value), ci_low=gap_low,
               ci_high=gap_high, n=overall.n, group_key=bd.key, group=worst.group, tied_groups=ties, ci_method=gap_ci,
               formula="accuracy - worst_group_accuracy"),
        minimum,
    ]
