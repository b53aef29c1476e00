"""Class- and subgroup-level accuracy: SubpopBench's metrics (SPEC.md §4.4) and MacroStd (§9).

Inputs are per sample: correctness, the base item id (the bootstrap cluster), the gold class
(the gold option label, or its text: `gold_classes`) and group labels (a `groups:` column, or an
intersection of two built with `intersect`, e.g. "biology × authority_wrong").

Definitions (n_c = samples of gold class c, a_g = accuracy over the samples of group g)
- recall_c = accuracy among the samples whose gold class is c
- worst_class_accuracy = min_c recall_c over classes with at least `min_group_size` items
  (smaller classes are reported and flagged, never crowned worst)              (§4.4 worst-class)
- balanced_accuracy = (1/|C|) Σ_c recall_c over every class present     (§4.4; sklearn's balanced_accuracy_score)
- adjusted_accuracy = (1/|G|) Σ_g a_g, unweighted, over every group present (§4.4 adjusted accuracy)
- macro_std = (1/|C|) Σ_c σ_c with, over the subgroups s of class c (cells c × s),
  w_cs = n_cs / Σ_s n_cs, μ_c = Σ_s w_cs a_cs (= recall_c), σ_c = sqrt(Σ_s w_cs (a_cs − μ_c)²)  (§9)

Choices where SPEC.md leaves room. §9 marks the weighting as medium-low confidence (read from
the abstract; no official code): we weight by the number of samples n_cs, use the weighted mean
μ_c, and the population form of the weighted variance (no Bessel correction), as written in §9.
Every class present counts in |C|, also a class whose samples all fall in one subgroup
(σ_c = 0), as the formula reads. Balanced and adjusted accuracy average over every class or group
present, small ones included (SubpopBench does); `min_group_size` only governs which class may
be crowned worst.

CIs: a class's (or group's) accuracy is a proportion: Wilson score interval on its item-clustered
effective n, as `harness.metrics.groups` gives for group metrics. The metrics built from several
strata use a seeded percentile bootstrap, resampling base items within each class (or group, or
cell): stratified, with groups.py's seeding (`estimate_mean`, name "<key>=<value>"). Strata are
resampled independently; an item whose variants fall in several classes (an option shuffle moves
the gold label) is resampled in each.
- worst_class_accuracy: the interval is the worst class's own Wilson interval (the class is chosen
  on the point estimates). The percentile bootstrap of a minimum is biased low and puts the
  estimate at the interval's edge; this is the choice groups.py makes for worst_group_accuracy.
- balanced / adjusted accuracy: the mean of the strata replicates, replicate by replicate.
- macro_std: a standard deviation of resampled accuracies is biased upward (resampling adds the
  sampling variance of every a_cs to their spread), so the raw percentile interval can miss the
  estimate. We shift the replicates by their bias (mean of replicates − estimate) before taking
  percentiles, clipped at 0 (a bias-corrected percentile interval); `ci_method` says so.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal

import numpy as np

from harness.config.task import Task
from harness.metrics.bootstrap import (
    DEFAULT_LEVEL,
    DEFAULT_RESAMPLES,
    bootstrap_method,
    percentile_interval,
    wilson_method,
)
from harness.metrics.groups import estimate_mean, extreme, tied
from harness.results.schema import GroupBreakdown, GroupValue, Metric, Sample

SEP = " × "


def intersect(groups_a: Sequence[str], groups_b: Sequence[str], *, sep: str = SEP) -> list[str]:
    """Per-sample intersection labels: ["biology"], ["authority_wrong"] -> ["biology × authority_wrong"]."""
    if len(groups_a) != len(groups_b):
        raise ValueError(f"cannot intersect {len(groups_a)} labels with {len(groups_b)}")
    return [f"{a}{sep}{b}" for a, b in zip(groups_a, groups_b)]


def task_classes(task: Task, samples: Sequence[Sample]) -> tuple[list[str], str]:
    """Each sample's class and the class key: the task's `stats.class_column`, else the gold letter."""
    column = task.spec.stats.class_column
    return ([s.groups[column] for s in samples], column) if column else (gold_classes(samples), "gold_label")


def gold_classes(samples: Sequence[Sample], by: Literal["label", "text"] = "label") -> list[str]:
    """Each sample's gold class: its gold option label as shown (`target`) or that option's text."""
    if by == "label":
        return [s.target for s in samples]
    if by == "text":
        return [s.choices[s.labels.index(s.target)] for s in samples]
    raise ValueError(f"unknown class kind {by!r}: 'label' or 'text'")


def _arrays(correct: Sequence[bool], items: Sequence[str], *labels: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    n = len(correct)
    if len(items) != n or any(len(lab) != n for lab in labels):
        raise ValueError("correct, items and labels must have one entry per sample")
    if n == 0:
        raise ValueError("no samples")
    return np.asarray(correct, dtype=float), np.asarray(items)


def strata_breakdown(correct: Sequence[bool], items: Sequence[str], labels: Sequence[str], key: str, *,
                     seed: int = 0, resamples: int = DEFAULT_RESAMPLES, level: float = DEFAULT_LEVEL,
                     min_group_size: int = 1,
                     variant: str | None = None) -> tuple[GroupBreakdown, dict[str, np.ndarray]]:
    """Accuracy per value of `labels` with CIs (items resampled within each value), the worst and
    best among values with at least `min_group_size` items, and each value's bootstrap replicates."""
    values, clusters = _arrays(correct, items, labels)
    labels_arr = np.asarray(labels)
    groups: list[GroupValue] = []
    reps: dict[str, np.ndarray] = {}
    for g in sorted(set(labels)):
        mask = labels_arr == g
        name = f"accuracy/{variant}/{key}={g}" if variant else f"{key}={g}"  # groups.py's seeding
        est, reps[g] = estimate_mean(values[mask], clusters[mask], seed=seed, name=name, resamples=resamples,
                                     level=level, proportion=True)
        n_items = len(set(clusters[mask].tolist()))
        groups.append(GroupValue(group=g, items=n_items, small=n_items < min_group_size, **est.model_dump()))
    worst, best = extreme(groups, worst=True), extreme(groups, worst=False)  # ties: every value named
    return GroupBreakdown(key=key, metric="accuracy", variant=variant, min_group_size=min_group_size, groups=groups,
                          worst=next(iter(worst), None), best=next(iter(best), None), worst_groups=worst,
                          best_groups=best, ci_method=wilson_method(level) + ", each value's own"), reps


def worst_class_accuracy(correct: Sequence[bool], items: Sequence[str], classes: Sequence[str], *,
                         class_key: str = "class", seed: int = 0, resamples: int = DEFAULT_RESAMPLES,
                         level: float = DEFAULT_LEVEL, min_group_size: int = 1,
                         variant: str | None = None) -> Metric:
    """min_c recall_c over classes with >= min_group_size items; CI = the worst class's own."""
    bd, _ = strata_breakdown(correct, items, classes, class_key, seed=seed, resamples=resamples, level=level,
                             min_group_size=min_group_size, variant=variant)
    ci = f"{bd.ci_method} (the worst class's own interval)"
    if bd.worst is None:
        return Metric(name="worst_class_accuracy", value=None, n=0, group_key=class_key, variant=variant,
                      formula=f"min_c recall_c over classes of '{class_key}' with >= {min_group_size} items",
                      reason=f"no class of '{class_key}' has {min_group_size}+ items")
    worst = next(g for g in bd.groups if g.group == bd.worst)
    return Metric(name="worst_class_accuracy", value=worst.value, ci_low=worst.ci_low, ci_high=worst.ci_high,
                  n=worst.n, group_key=class_key, group=worst.group, tied_groups=tied(bd.worst_groups), variant=variant,
                  ci_method=ci,
                  formula=f"min_c recall_c, recall_c = accuracy over samples of gold class c ('{class_key}'), "
                          f"classes with >= {min_group_size} items")


def _mean_of_strata(name: str, formula: str, bd: GroupBreakdown, reps: dict[str, np.ndarray], n: int, ci: str,
                    level: float, variant: str | None) -> Metric:
    value = float(np.mean([g.value for g in bd.groups]))
    low, high = percentile_interval(np.mean([reps[g.group] for g in bd.groups], axis=0), level)
    return Metric(name=name, value=value, ci_low=low, ci_high=high, n=n, group_key=bd.key, variant=variant,
                  ci_method=ci, formula=formula)


def balanced_accuracy(correct: Sequence[bool], items: Sequence[str], classes: Sequence[str], *,
                      class_key: str = "class", seed: int = 0, resamples: int = DEFAULT_RESAMPLES,
                      level: float = DEFAULT_LEVEL, variant: str | None = None) -> Metric:
    """(1/|C|) Σ_c recall_c over every class present."""
    bd, reps = strata_breakdown(correct, items, classes, class_key, seed=seed, resamples=resamples, level=level,
                                variant=variant)
    return _mean_of_strata("balanced_accuracy",
                           f"(1/|C|) Σ_c recall_c over the {len(bd.groups)} gold classes of '{class_key}'",
                           bd, reps, len(correct),
                           bootstrap_method(level, resamples, seed, f"each class of '{class_key}'"),
                           level, variant)


def adjusted_accuracy(correct: Sequence[bool], items: Sequence[str], groups: Sequence[str], *,
                      group_key: str = "group", seed: int = 0, resamples: int = DEFAULT_RESAMPLES,
                      level: float = DEFAULT_LEVEL, variant: str | None = None) -> Metric:
    """(1/|G|) Σ_g accuracy_g, unweighted, over every group present."""
    bd, reps = strata_breakdown(correct, items, groups, group_key, seed=seed, resamples=resamples, level=level,
                                variant=variant)
    return _mean_of_strata("adjusted_accuracy",
                           f"(1/|G|) Σ_g accuracy_g, unweighted, over the {len(bd.groups)} groups of '{group_key}'",
                           bd, reps, len(correct),
                           bootstrap_method(level, resamples, seed, f"each group of '{group_key}'"),
                           level, variant)


def _macro_std(acc: np.ndarray, cell_class: list[str], weights: np.ndarray) -> np.ndarray:
    """MacroStd for cell accuracies `acc` (cells last axis; any leading axes are replicates)."""
    sigmas = []
    for c in sorted(set(cell_class)):
        cols = np.asarray([k for k, cc in enumerate(cell_class) if cc == c])
        w = weights[cols] / weights[cols].sum()
        a = acc[..., cols]
        mu = (a * w).sum(axis=-1, keepdims=True)
        sigmas.append(np.sqrt(((a - mu) ** 2 * w).sum(axis=-1)))
    return np.mean(sigmas, axis=0)


def macro_std(correct: Sequence[bool], items: Sequence[str], classes: Sequence[str], subgroups: Sequence[str], *,
              class_key: str = "class", subgroup_key: str = "group", seed: int = 0,
              resamples: int = DEFAULT_RESAMPLES, level: float = DEFAULT_LEVEL, variant: str | None = None) -> Metric:
    """(1/|C|) Σ_c σ_c, σ_c the sample-size-weighted std of the subgroup accuracies within class c (§9)."""
    cells = intersect(classes, subgroups)
    key = f"{class_key}{SEP}{subgroup_key}"
    bd, reps = strata_breakdown(correct, items, cells, key, seed=seed, resamples=resamples, level=level,
                                variant=variant)
    class_of = dict(zip(cells, classes))
    cell_class = [class_of[g.group] for g in bd.groups]
    weights = np.asarray([g.n for g in bd.groups], dtype=float)
    value = float(_macro_std(np.asarray([g.value for g in bd.groups]), cell_class, weights))
    boot = _macro_std(np.stack([reps[g.group] for g in bd.groups], axis=-1), cell_class, weights)
    low, high = percentile_interval(boot - (boot.mean() - value), level)
    ci = (bootstrap_method(level, resamples, seed, f"each cell of '{key}'")
          + "; bias-corrected: replicates shifted by (mean of replicates - estimate), clipped at 0")
    n_classes = len(set(cell_class))
    return Metric(name="macro_std", value=value, ci_low=max(low, 0.0), ci_high=max(high, 0.0), n=len(correct),
                  group_key=key, variant=variant, ci_method=ci,
                  formula=f"(1/|C|) Σ_c sqrt(Σ_s w_cs (a_cs - μ_c)²), w_cs = n_cs / n_c, μ_c = Σ_s w_cs a_cs; "
                          f"{n_classes} classes of '{class_key}', subgroups s of '{subgroup_key}'")


def subgroup_metrics(correct: Sequence[bool], items: Sequence[str], classes: Sequence[str],
                     groups: Mapping[str, Sequence[str]], *, class_key: str = "class", seed: int = 0,
                     resamples: int = DEFAULT_RESAMPLES, level: float = DEFAULT_LEVEL, min_group_size: int = 1,
                     variant: str | None = None) -> tuple[list[Metric], list[GroupBreakdown]]:
    """worst_class_accuracy and balanced_accuracy, then adjusted_accuracy and macro_std (classes ×
    that column) for every group column, plus the per-class breakdown (recall per gold class)."""
    boot = {"seed": seed, "resamples": resamples, "level": level}
    bd, _ = strata_breakdown(correct, items, classes, class_key, min_group_size=min_group_size, variant=variant,
                             **boot)
    metrics = [worst_class_accuracy(correct, items, classes, class_key=class_key, min_group_size=min_group_size,
                                    variant=variant, **boot),
               balanced_accuracy(correct, items, classes, class_key=class_key, variant=variant, **boot)]
    for key, labels in groups.items():
        metrics.append(adjusted_accuracy(correct, items, labels, group_key=key, variant=variant, **boot))
        metrics.append(macro_std(correct, items, classes, labels, class_key=class_key, subgroup_key=key,
                                 variant=variant, **boot))
    return metrics, [bd]
