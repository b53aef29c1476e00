"""Compare training variants over seeds on the same held-out pairs: worst-group values and paired differences.

Input: for every variant, an (S × n) array of per-pair values (S training seeds, the same n
held-out pairs in the same order), each pair's group and cluster (the fact its phrasing belongs to).

- group value of one run: v_{s,g} = mean of the run's values over the pairs of group g
- worst-group value of one run: W_s = max_g v_{s,g} (a loss) or min_g v_{s,g} (an accuracy);
  the worst group may differ between runs
- a variant's estimate: W̄ = mean_s W_s, the expected worst-group value of one training run
- a difference between variants b and a: D = W̄_b − W̄_a (same seeds, same pairs: paired)

CIs: seeded percentile bootstrap. Each replicate draws the clusters (facts) with replacement,
every group's mean is recomputed over its pairs in the drawn clusters (a fact drawn twice counts
twice; a group left without pairs is skipped), and W̄ and D are recomputed with the same draw for
every variant and seed. Two intervals:
- `facts`: seeds fixed; the uncertainty of the held-out sample, given these training runs;
- `facts+seeds`: each replicate also draws S seeds with replacement (the same for both variants),
  adding seed-to-seed variation. With 3 seeds this is coarse, and it is the one to read.
p-value (two-sided, facts+seeds replicates): p = min(1, 2·(1 + min(#{D* ≤ 0}, #{D* ≥ 0})) / (1 + R)),
the smallest level at which the percentile interval would exclude 0. No correction for the
several comparisons is applied.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from pydantic import BaseModel, Field

from harness.metrics.bootstrap import named_rng, percentile_interval


class WorstGroupEstimate(BaseModel):
    variant: str
    value: float = Field(description="mean over seeds of the worst-group value")
    per_seed: list[float]
    worst_groups: list[str] = Field(description="the worst group of each seed's run")
    ci_facts: tuple[float, float]
    ci_facts_seeds: tuple[float, float]


class WorstGroupDifference(BaseModel):
    a: str
    b: str
    diff: float = Field(description="W̄_b − W̄_a")
    per_seed: list[float]
    ci_facts: tuple[float, float]
    ci_facts_seeds: tuple[float, float]
    p_value: float = Field(description="two-sided percentile-bootstrap p, facts+seeds replicates")


class WorstGroupComparison(BaseModel):
    metric: str
    higher_is_better: bool
    pairs: int
    clusters: int
    seeds: int
    resamples: int
    level: float
    method: str
    estimates: list[WorstGroupEstimate]
    differences: list[WorstGroupDifference]


def _group_means(values: np.ndarray, weights: np.ndarray, onehot: np.ndarray) -> np.ndarray:
    """(R, S, K) group means of (S, n) values under (R, n) pair weights; NaN where a group has no weight."""
    sums = np.einsum("rn,sn,nk->rsk", weights, values, onehot)
    counts = weights @ onehot  # (R, K)
    with np.errstate(invalid="ignore", divide="ignore"):
        return sums / counts[:, None, :]


def _worst(means: np.ndarray, higher_is_better: bool) -> np.ndarray:
    return np.nanmin(means, axis=-1) if higher_is_better else np.nanmax(means, axis=-1)


def compare_worst_group(values: dict[str, np.ndarray], groups: Sequence[str], clusters: Sequence[str], *,
                        metric: str, higher_is_better: bool, contrasts: Sequence[tuple[str, str]],
                        seed: int = 0, resamples: int = 2000, level: float = 0.95) -> WorstGroupComparison:
    """Worst-group estimates of every variant and the paired differences `contrasts` ((a, b): b − a)."""
    names = list(values)
    arrays = {k: np.asarray(v, dtype=float) for k, v in values.items()}
    shapes = {a.shape for a in arrays.values()}
    if not arrays or not groups or shapes != {(next(iter(shapes))[0], len(groups))} or next(iter(shapes))[0] == 0:
        raise ValueError(f"every variant needs a (seeds × {len(groups)}) array; got shapes {sorted(shapes)}")
    if len(clusters) != len(groups):
        raise ValueError(f"{len(clusters)} clusters for {len(groups)} pairs")
    n_seeds = next(iter(shapes))[0]
    group_names = sorted(set(groups))
    onehot = (np.asarray(groups)[:, None] == np.asarray(group_names)[None, :]).astype(float)
    cluster_names, cluster_of = np.unique(np.asarray(clusters), return_inverse=True)
    rng = named_rng(seed, metric)
    draws = rng.integers(0, len(cluster_names), size=(resamples, len(cluster_names)))
    multiplicity = np.stack([np.bincount(d, minlength=len(cluster_names)) for d in draws]).astype(float)
    pair_weights = multiplicity[:, cluster_of]  # (R, n)
    seed_draws = rng.integers(0, n_seeds, size=(resamples, n_seeds))

    point: dict[str, np.ndarray] = {}  # (S,) worst-group value per seed
    worst_group: dict[str, list[str]] = {}
    reps_facts: dict[str, np.ndarray] = {}  # (R,) mean over the seeds
    reps_both: dict[str, np.ndarray] = {}  # (R,) mean over resampled seeds
    for name in names:
        full = _group_means(arrays[name], np.ones((1, len(groups))), onehot)[0]  # (S, K)
        point[name] = _worst(full, higher_is_better)
        pick = np.nanargmin(full, axis=1) if higher_is_better else np.nanargmax(full, axis=1)
        worst_group[name] = [group_names[i] for i in pick]
        per_rep = _worst(_group_means(arrays[name], pair_weights, onehot), higher_is_better)  # (R, S)
        reps_facts[name] = per_rep.mean(axis=1)
        reps_both[name] = np.take_along_axis(per_rep, seed_draws, axis=1).mean(axis=1)

    estimates = [WorstGroupEstimate(variant=k, value=float(point[k].mean()), per_seed=point[k].tolist(),
                                    worst_groups=worst_group[k], ci_facts=percentile_interval(reps_facts[k], level),
                                    ci_facts_seeds=percentile_interval(reps_both[k], level)) for k in names]
    differences = []
    for a, b in contrasts:
        if a not in arrays or b not in arrays:
            raise ValueError(f"unknown variant in contrast ({a}, {b}); variants: {', '.join(names)}")
        both = reps_both[b] - reps_both[a]
        tail = min(int((both <= 0).sum()), int((both >= 0).sum()))
        differences.append(WorstGroupDifference(
            a=a, b=b, diff=float(point[b].mean() - point[a].mean()), per_seed=(point[b] - point[a]).tolist(),
            ci_facts=percentile_interval(reps_facts[b] - reps_facts[a], level),
            ci_facts_seeds=percentile_interval(both, level),
            p_value=min(1.0, 2 * (1 + tail) / (1 + resamples))))
    method = (f"{level:.0%} percentile bootstrap, {resamples} resamples, seed {seed}, resampling the "
              f"{len(cluster_names)} clusters (facts) of the {len(groups)} held-out pairs, all variants with the "
              f"same draw (paired); facts+seeds also resamples the {n_seeds} training seeds")
    return WorstGroupComparison(metric=metric, higher_is_better=higher_is_better, pairs=len(groups),
                                clusters=len(cluster_names), seeds=n_seeds, resamples=resamples, level=level,
                                method=method, estimates=estimates, differences=differences)
