"""Seeded percentile-bootstrap confidence intervals for means, clustered when asked.

Clustered: when one base item has several samples (variants), whole items are resampled, so
the interval is not made falsely narrow by counting correlated samples as independent.
All functions take a numpy Generator so the same seed always gives the same interval.
"""

from __future__ import annotations

import numpy as np

DEFAULT_RESAMPLES = 1000
DEFAULT_LEVEL = 0.95
BLOCK_DRAWS = 1 << 22  # resampled indices held at once (32 MiB)


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
