"""Rates over a subset of samples, with intervals and group breakdowns: the building block of the refusal
and judge families. A rate is a proportion: Wilson score interval on the item-clustered effective n
(`estimate_mean(proportion=True)`); a rate with nothing in its denominator is undefined (value None, n 0)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from harness.metrics.family import BootstrapConfig
from harness.metrics.groups import estimate_mean, group_breakdown
from harness.results.schema import GroupBreakdown, Metric


class Rates:
    """Rates of one family on the same samples: clusters (item ids), groups and the run's bootstrap settings."""

    def __init__(self, items: Sequence[str], groups: dict[str, list[str]], boot: BootstrapConfig) -> None:
        self.clusters = np.asarray(list(items), dtype=str)
        self.groups = groups
        self.boot = boot

    def rate(self, name: str, formula: str, hits: np.ndarray, mask: np.ndarray, *, excluded: int = 0,
             variant: str | None = None) -> Metric:
        if not mask.any():
            return Metric(name=name, value=None, n=0, formula=formula, variant=variant, excluded=excluded,
                          reason="no sample is in the denominator")
        est, _ = estimate_mean(hits[mask].astype(float), self.clusters[mask], seed=self.boot.seed,
                               name=f"{name}/{variant}", resamples=self.boot.resamples, level=self.boot.level,
                               proportion=True)
        return Metric(name=name, formula=formula, ci_method=est.method, variant=variant, excluded=excluded,
                      **est.model_dump())

    def breakdowns(self, metric: str, hits: np.ndarray, mask: np.ndarray, *, higher_is_better: bool,
                   variant: str | None = None) -> list[GroupBreakdown]:
        out = []
        for key, labels in self.groups.items():
            if not mask.any():
                continue
            bd, _ = group_breakdown(hits[mask].astype(float), self.clusters[mask],
                                    [str(g) for g, keep in zip(labels, mask) if keep], key, seed=self.boot.seed,
                                    resamples=self.boot.resamples, level=self.boot.level,
                                    min_group_size=self.boot.min_group_size, metric=metric, variant=variant,
                                    higher_is_better=higher_is_better, proportion=True)
            out.append(bd)
        return out
