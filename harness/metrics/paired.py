"""Paired comparisons of two arms (two models, or two conditions) on the same items.

paired_difference(a, b, items): d = mean(b) − mean(a) over the paired samples, i.e. mean_i (b_i − a_i).
- CI: seeded percentile bootstrap that resamples base items (clusters), both arms together: each
  replicate draws items with replacement and recomputes Σ(b − a) / #samples over the drawn items,
  so the correlation between the arms on an item is kept (a paired interval).
- p-value (two-sided): bootstrap test under the null of no difference (Efron & Tibshirani 1993,
  ch. 16): centre the per-sample differences on 0 (d_i − d̄), resample as above and count
  replicates at least as far from 0 as the estimate, p = (1 + #{|d̄*₀| ≥ |d̄|}) / (1 + B)
  (Davison & Hinkley 1997, ch. 4: the +1, so p is never 0 and is at least 1/(B+1)). The
  centred replicates are exactly the CI's replicates minus d̄ (a ratio of resampled sums), so one set serves both.
  When every difference is 0, p = 1.

mcnemar(a_correct, b_correct), for binary outcomes on the same samples: b01 = #(a wrong, b right),
b10 = #(a right, b wrong), N = b01 + b10.
- exact: two-sided binomial test of b01 ~ Bin(N, 1/2): p = min(1, 2 Σ_{k ≤ min(b01, b10)} C(N, k) / 2^N)
  (equal to scipy.stats.binomtest(b01, N, 0.5).pvalue: the null is symmetric); N = 0 gives p = 1.
- chi-square with continuity correction (Edwards): χ² = max(0, |b01 − b10| − 1)² / N, 1 degree of
  freedom, p = P(χ²₁ ≥ χ²) = erfc(sqrt(χ²/2)). The max(0, ·) keeps b01 = b10 at χ² = 0 (p = 1),
  where the unclipped formula gives 1/N.

compare_runs(samples_a, samples_b): aligns two runs of the same task by (item_id, variant) and
compares accuracy. The p-value is McNemar's exact test when every item has one sample (its pairs
are independent), and the clustered bootstrap test otherwise (McNemar would treat the correlated
variants of one item as independent pairs); `method` names the test used, and the discordant
counts are reported either way.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from pydantic import BaseModel, Field

from harness.metrics.bootstrap import (
    DEFAULT_LEVEL,
    DEFAULT_RESAMPLES,
    bootstrap_method,
    named_rng,
    percentile_interval,
    resample_means,
)
from harness.results.schema import Sample


class PairedDifference(BaseModel):
    diff: float = Field(description="mean(b) - mean(a)")
    ci_low: float
    ci_high: float
    p_value: float = Field(description="two-sided bootstrap p-value for diff = 0")
    n: int = Field(description="paired samples")
    items: int = Field(description="distinct base items (bootstrap clusters)")
    ci_method: str
    method: str


class McNemar(BaseModel):
    b01: int = Field(description="a wrong, b right")
    b10: int = Field(description="a right, b wrong")
    p_value: float = Field(description="exact two-sided binomial test of b01 ~ Bin(b01 + b10, 1/2)")
    chi2: float = Field(description="max(0, |b01 - b10| - 1)^2 / (b01 + b10), continuity-corrected")
    chi2_p_value: float = Field(description="P(chi-square with 1 df >= chi2)")


class Comparison(BaseModel):
    """b against a on the same (item_id, variant) samples; diff = b − a."""

    name_a: str
    name_b: str
    metric: str
    n: int = Field(description="paired samples")
    items: int = Field(description="distinct base items")
    value_a: float
    value_b: float
    diff: float = Field(description="value_b - value_a")
    ci_low: float
    ci_high: float
    ci_method: str
    p_value: float
    method: str = Field(description="the test that gave p_value")
    b01: int | None = Field(None, description="binary metrics: a wrong, b right")
    b10: int | None = Field(None, description="binary metrics: a right, b wrong")


def paired_difference(a: Sequence[float], b: Sequence[float], items: Sequence[str], *, seed: int = 0,
                      resamples: int = DEFAULT_RESAMPLES, level: float = DEFAULT_LEVEL,
                      name: str = "paired_difference") -> PairedDifference:
    """mean(b) − mean(a) with a paired, item-clustered percentile bootstrap CI and a two-sided
    bootstrap p-value (see the module docstring). `name` enters the seed, as in groups.py."""
    if not len(a) == len(b) == len(items):
        raise ValueError(f"a, b and items must have the same length (got {len(a)}, {len(b)}, {len(items)})")
    if len(a) == 0:
        raise ValueError("no paired samples")
    d = np.asarray(b, dtype=float) - np.asarray(a, dtype=float)
    clusters = np.asarray(items)
    diff = float(d.mean())
    reps = resample_means(d, clusters, named_rng(seed, name), resamples)
    low, high = percentile_interval(reps, level)
    centred = reps - diff  # = the same replicates of the null-centred differences d - diff
    # A tolerance, so floating-point noise in an all-zero (or exactly symmetric) sample counts as "as extreme".
    extreme = np.abs(centred) >= abs(diff) - 1e-12
    p = float((1 + extreme.sum()) / (1 + resamples))
    return PairedDifference(
        diff=diff, ci_low=low, ci_high=high, p_value=min(1.0, p), n=len(d), items=len(set(clusters.tolist())),
        ci_method=bootstrap_method(level, resamples, seed, paired=True),
        method=f"two-sided bootstrap test, null-centred differences, p = (1 + #|d*| >= |d|) / (1 + {resamples})")


def _binom_two_sided(k: int, n: int) -> float:
    if n == 0:
        return 1.0
    tail = sum(math.comb(n, j) for j in range(min(k, n - k) + 1))
    return min(1.0, 2 * tail / 2**n)


def mcnemar(a_correct: Sequence[bool], b_correct: Sequence[bool]) -> McNemar:
    """Discordant counts and McNemar's exact and continuity-corrected chi-square tests."""
    if len(a_correct) != len(b_correct):
        raise ValueError(f"a and b must have the same length (got {len(a_correct)}, {len(b_correct)})")
    b01 = sum(1 for x, y in zip(a_correct, b_correct) if not x and y)
    b10 = sum(1 for x, y in zip(a_correct, b_correct) if x and not y)
    n = b01 + b10
    chi2 = max(0, abs(b01 - b10) - 1) ** 2 / n if n else 0.0
    return McNemar(b01=b01, b10=b10, p_value=_binom_two_sided(b01, n), chi2=chi2,
                   chi2_p_value=math.erfc(math.sqrt(chi2 / 2)))


def _index(samples: Sequence[Sample], which: str) -> dict[tuple[str, str], Sample]:
    out: dict[tuple[str, str], Sample] = {}
    for s in samples:
        key = (s.item_id, s.variant)
        if key in out:
            raise ValueError(f"run {which} has two samples for item {s.item_id!r}, variant {s.variant!r}")
        out[key] = s
    return out


def _first(keys: set[tuple[str, str]], k: int = 5) -> str:
    shown = ", ".join(f"{i}/{v}" for i, v in sorted(keys)[:k])
    return shown + (f" and {len(keys) - k} more" if len(keys) > k else "")


def compare_runs(samples_a: Sequence[Sample], samples_b: Sequence[Sample], *, name_a: str = "a", name_b: str = "b",
                 seed: int = 0, resamples: int = DEFAULT_RESAMPLES,
                 level: float = DEFAULT_LEVEL,
                 metric: str = "accuracy") -> tuple[Comparison, list[tuple[str, str]]]:
    """Accuracy (or the 0/1 `metric` the caller put in `correct`) of b against a on the same task, paired
    by (item_id, variant), and the (item_id, variant) pairs where exactly one of the two is correct (sorted).

    ValueError when the two runs do not hold the same (item_id, variant) pairs, hold one twice,
    or disagree on an item's gold answer (then they are not the same task)."""
    ia, ib = _index(samples_a, name_a), _index(samples_b, name_b)
    if not ia:
        raise ValueError("no samples to compare")
    only_a, only_b = set(ia) - set(ib), set(ib) - set(ia)
    if only_a or only_b:
        parts = [f"{len(keys)} (item_id/variant) only in {name}: {_first(keys)}"
                 for name, keys in ((name_a, only_a), (name_b, only_b)) if keys]
        raise ValueError("the runs do not cover the same samples: " + "; ".join(parts))
    keys = sorted(ia)
    gold = {k for k in keys if ia[k].target != ib[k].target}
    if gold:
        raise ValueError(f"the runs disagree on the gold answer of {len(gold)} samples: {_first(gold)}")
    a = [ia[k].correct for k in keys]
    b = [ib[k].correct for k in keys]
    items = [k[0] for k in keys]
    pdiff = paired_difference([float(x) for x in a], [float(x) for x in b], items, seed=seed,
                              resamples=resamples, level=level, name=f"compare/{metric}")
    mc = mcnemar(a, b)
    if pdiff.items == pdiff.n:
        p, method = mc.p_value, "McNemar exact test (two-sided binomial on the discordant pairs)"
    else:
        p = pdiff.p_value
        method = pdiff.method + " (items have several samples: McNemar would treat them as independent)"
    comparison = Comparison(name_a=name_a, name_b=name_b, metric=metric, n=pdiff.n, items=pdiff.items,
                            value_a=float(np.mean(a)), value_b=float(np.mean(b)), diff=pdiff.diff, ci_low=pdiff.ci_low,
                            ci_high=pdiff.ci_high, ci_method=pdiff.ci_method, p_value=p, method=method, b01=mc.b01,
                            b10=mc.b10)
    return comparison, [k for k, x, y in zip(keys, a, b) if x != y]
