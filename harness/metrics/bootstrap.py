"""Confidence intervals: the Wilson score interval for proportions, and a seeded percentile
bootstrap for every other mean, both clustered by base item when asked.

Clustered: when one base item has several samples (variants, draws), whole items are resampled,
and a proportion's interval uses the cluster-adjusted effective n, so an interval is not made
falsely narrow by counting correlated samples as independent. The bootstrap functions take a
numpy Generator so the same seed always gives the same interval.

Proportions (a mean of 0/1 values: accuracy, follow rate, a group's accuracy, ...) get the Wilson
score interval (Wilson 1927; Brown, Cai & DasGupta 2001) on the effective n, because the
percentile bootstrap of a proportion degenerates: 11/11 gives [1, 1] and 0/12 gives [0, 0],
and at small n its interval is too narrow. Wilson's interval stays inside [0, 1], has width
> 0 at p = 0 and p = 1 (11/11 gives [0.741, 1]) and close to nominal coverage at small n.
Effective n (Kish): n_eff = n / deff with the design effect deff = V_clustered / V_iid, where
V_iid = p(1 - p) / n and V_clustered = K / (K - 1) · Σ_k (S_k - p m_k)² / n² is the
cluster-robust variance of the ratio mean (K items, item k with m_k samples summing to S_k).
So n_eff = p(1 - p) / V_clustered, kept within [1, n]; n_eff = n when every item has one sample;
and n_eff = K (one observation per item, the conservative choice) when p is 0 or 1, where the
design effect cannot be estimated.
"""

from __future__ import annotations

import zlib
from statistics import NormalDist

import numpy as np

DEFAULT_RESAMPLES = 1000
DEFAULT_LEVEL = 0.95
BLOCK_DRAWS = 1 << 22  # resampled indices held at once (32 MiB)


def named_rng(seed: int, name: str) -> np.random.Generator:
    """The generator for one named statistic: the same (seed, name) always draws the same replicates, and
    different names draw independently (the name enters the seed through its CRC-32)."""
    return np.random.default_rng([seed, zlib.crc32(name.encode())])


def cluster_sums(values: np.ndarray, clusters: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """Per-cluster sums and counts (each value its own cluster when `clusters` is None)."""
    values = np.asarray(values, dtype=float)
    if clusters is None:
        return values, np.ones_like(values)
    _, inverse = np.unique(np.asarray(clusters), return_inverse=True)
    sums = np.bincount(inverse, weights=values)
    counts = np.bincount(inverse).astype(float)
    return sums, counts


def resample_means(values: np.ndarray, clusters: np.ndarray | None, rng: np.random.Generator,
                   resamples: int = DEFAULT_RESAMPLES) -> np.ndarray:
    """`resamples` bootstrap replicates of the mean (ratio of resampled cluster sums to counts).

    Drawn a block of replicates at a time, so memory stays near `BLOCK_DRAWS` indices however
    many clusters there are; the generator gives the same indices as one (resamples × n) draw."""
    sums, counts = cluster_sums(values, clusters)
    n = len(sums)
    block = max(1, BLOCK_DRAWS // max(n, 1))
    reps = []
    for start in range(0, resamples, block):
        idx = rng.integers(0, n, size=(min(block, resamples - start), n))
        reps.append(sums[idx].sum(axis=1) / counts[idx].sum(axis=1))
    return np.concatenate(reps) if reps else np.empty(0)


def percentile_interval(replicates: np.ndarray, level: float = DEFAULT_LEVEL) -> tuple[float, float]:
    alpha = (1.0 - level) / 2.0
    low, high = np.quantile(replicates, [alpha, 1.0 - alpha])
    return float(low), float(high)


def mean_ci(values, clusters=None, *, seed: int = 0, resamples: int = DEFAULT_RESAMPLES,  # type: ignore[no-untyped-def]
            level: float = DEFAULT_LEVEL) -> tuple[float, float]:
    rng = np.random.default_rng(seed)
    return percentile_interval(resample_means(np.asarray(values, float), clusters, rng, resamples), level)


def effective_n(values: np.ndarray, clusters: np.ndarray | None = None) -> float:
    """Cluster-adjusted number of independent observations behind the mean of 0/1 `values` (module docstring)."""
    values = np.asarray(values, dtype=float)
    n = len(values)
    if clusters is None or n == 0:
        return float(n)
    sums, counts = cluster_sums(values, clusters)
    k = len(sums)
    if k == n:
        return float(n)
    p = float(values.mean())
    if p * (1 - p) <= 0 or k < 2:
        return float(k)
    clustered = k / (k - 1) * float(np.sum((sums - p * counts) ** 2)) / n**2
    if clustered <= 0:  # every item has exactly the mean: no between-item variation
        return float(n)
    return float(min(max(p * (1 - p) / clustered, 1.0), n))


def wilson_interval(p: float, n: float, level: float = DEFAULT_LEVEL) -> tuple[float, float]:
    """Wilson score interval of a proportion p observed on n (possibly effective, non-integer) trials."""
    z = NormalDist().inv_cdf(0.5 + level / 2)
    z2 = z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z / (1 + z2 / n) * np.sqrt(max(p * (1 - p), 0.0) / n + z2 / (4 * n * n))
    return float(max(0.0, centre - half)), float(min(1.0, centre + half))


def proportion_interval(values: np.ndarray, clusters: np.ndarray | None = None,
                        level: float = DEFAULT_LEVEL) -> tuple[float | None, float | None, float]:
    """(low, high, n_eff): the Wilson interval of the mean of 0/1 `values` on the cluster-adjusted n.
    (None, None, 0) when there are no values."""
    values = np.asarray(values, dtype=float)
    if len(values) == 0:
        return None, None, 0.0
    n_eff = effective_n(values, clusters)
    low, high = wilson_interval(float(values.mean()), n_eff, level)
    return low, high, n_eff


def wilson_method(level: float, n_eff: float | None = None, n: int | None = None) -> str:
    """The `ci_method` text of a proportion's interval."""
    where = f"; effective n {n_eff:.1f} of {n} samples" if n_eff is not None and n is not None else ""
    return (f"{level:.0%} Wilson score interval on the item-clustered effective n (n / design effect; "
            f"K items when the rate is 0 or 1){where}")


def bootstrap_method(level: float, resamples: int, seed: int, within: str = "", paired: bool = False) -> str:
    """The `ci_method` text of a percentile-bootstrap interval (`paired`: both arms resampled together)."""
    return (f"{level:.0%} {'paired ' if paired else ''}percentile bootstrap, {resamples} resamples, seed {seed}, "
            "resampling base items" + (f" within {within}" if within else "")
            + (" (both arms together)" if paired else ""))
