"""Robustness samples as item-aligned arrays, and the resampled items every robustness CI shares.

`Aligned`: o[i] = 1[original answer of item i right]; per perturbation p, c[i, r] = 1[draw r
right] and f[i, r] = 1[draw r chose another of the item's own options than the original prompt].
`Boot`: one set of resampled base items for every statistic of a task, so differences between
variants are paired; `rate` gives a proportion's Wilson interval on the item-clustered effective n.
"""

from __future__ import annotations

import numpy as np

from harness.metrics.bootstrap import named_rng, percentile_interval, proportion_interval, wilson_method
from harness.metrics.paired import mcnemar, paired_difference
from harness.metrics.persuasion import Settings
from harness.results.schema import Sample


class Aligned:
    """Samples of one task as item-aligned arrays: o[i], and per perturbation c[i, r] and f[i, r]."""

    def __init__(self, samples: list[Sample], group_keys: list[str]) -> None:
        original = [s for s in samples if s.variant == "original"]
        self.items = [s.item_id for s in original]
        pos = {item: k for k, item in enumerate(self.items)}
        self.o = np.array([s.correct for s in original], float)
        base_pred = [s.predicted_option for s in original]
        self.groups = {k: [s.groups[k] for s in original] for k in group_keys}
        draws: dict[str, dict[tuple[int, int], Sample]] = {}
        for s in samples:
            if s.perturbation is not None:
                draws.setdefault(s.perturbation, {})[(pos[s.item_id], s.repeat)] = s
        self.c: dict[str, np.ndarray] = {}
        self.f: dict[str, np.ndarray] = {}
        for name, cells in draws.items():
            repeats = 1 + max(r for _, r in cells)
            if len(cells) != len(self.items) * repeats:
                raise ValueError(f"perturbation '{name}' does not have every draw of every item")
            c = np.zeros((len(self.items), repeats))
            f = np.zeros_like(c)
            for (i, r), s in cells.items():
                c[i, r] = s.correct
                f[i, r] = s.predicted_option != base_pred[i]
            self.c[name], self.f[name] = c, f

    @property
    def perturbations(self) -> list[str]:
        return list(self.c)

    def all_c(self) -> np.ndarray:
        return np.concatenate([self.c[p] for p in self.perturbations], axis=1)


class Boot:
    """Resampled item indices shared by every statistic of one task (paired CIs)."""

    def __init__(self, n: int, cfg: Settings) -> None:
        rng = named_rng(cfg.seed, "robustness")
        self.idx = rng.integers(0, n, size=(cfg.resamples, n), dtype=np.int32)  # the same draws as int64
        self.cfg = cfg

    def ci(self, reps: np.ndarray) -> tuple[float | None, float | None]:
        reps = reps[np.isfinite(reps)]
        if len(reps) < len(self.idx) * 0.9:  # undefined in too many replicates (e.g. PDR with Σo = 0)
            return None, None
        return percentile_interval(reps, self.cfg.level)

    def mean(self, per_item: np.ndarray) -> tuple[float | None, float | None]:
        return self.ci(per_item[self.idx].mean(axis=1))

    def rate(self, draws: np.ndarray) -> tuple[float | None, float | None, str]:
        """A proportion over (items × draws) 0/1 values: Wilson interval on the item-clustered effective n."""
        clusters = np.repeat(np.arange(draws.shape[0]), draws.shape[1] if draws.ndim > 1 else 1)
        low, high, n_eff = proportion_interval(draws.reshape(-1), clusters, self.cfg.level)
        return low, high, wilson_method(self.cfg.level, n_eff, draws.size)


def drop_test(o: np.ndarray, c: np.ndarray, items: list[str], cfg: Settings) -> tuple[float, str]:
    """p-value of no accuracy drop: McNemar's exact test with one draw per item; with several
    draws, the paired bootstrap test over items (McNemar would count draws as independent)."""
    if c.shape[1] == 1:
        mc = mcnemar(o.astype(bool).tolist(), c[:, 0].astype(bool).tolist())
        return mc.p_value, f"McNemar exact, discordant pairs {mc.b01} / {mc.b10}"
    d = paired_difference(np.repeat(o, c.shape[1]).tolist(), c.reshape(-1).tolist(),
                          np.repeat(np.asarray(items), c.shape[1]).tolist(), seed=cfg.seed,
                          resamples=cfg.resamples, level=cfg.level, name="robustness/drop")
    return d.p_value, d.method
