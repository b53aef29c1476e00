"""Robustness metrics: every perturbed variant against `original`, item by item (SPEC.md §5–8).

Per item i: o_i = 1[original answer correct], and for a perturbation p drawn s times (ReCode's s
randomized draws; s = 1 for deterministic ones) c_ir = 1[draw r correct], f_ir = 1[draw r chose a
different option than the original prompt did]. Options are compared as the item's own options,
so an answer that follows its option through a shuffle or a relabelling is not a flip. An invalid
answer is never correct and is a flip unless the original answer was invalid too.

Per perturbation p (metric `variant` = p):
- accuracy = mean_ir c_ir
- accuracy_drop = mean_i (o_i - mean_r c_ir)                         (paired; = acc(original) - acc(p))
- performance_drop_rate = 1 - Σ_i mean_r c_ir / Σ_i o_i              (PromptBench PDR, §7.2; undefined if Σ o = 0)
- flip_rate = mean_ir f_ir                                          (FLUKE unrobustness U%, §7.1)
- worst_case_accuracy = mean_i min_r c_ir                           (ReCode RP_s@1, §5.2; = accuracy when s = 1)
- cohens_h = mean_i (2·asin√(mean_r c_ir) − 2·asin√o_i) / π          (normalised Cohen's h, §8; per-item mean)
Over all perturbations (metric `variant` = None):
- performance_drop_rate with mean_r over every perturbed draw of the item
- worst_case_accuracy = mean_i min over every perturbed draw of c   (RP_s@1 over all perturbations)
- flip_rate, cohens_h over every perturbed draw
- accuracy_spread = max_v acc_v − min_v acc_v and accuracy_std (sample std, ddof 1) over the
  variants v = original and each perturbation; median_accuracy; mean_drop = mean_p accuracy_drop_p
  (When Punctuation Matters, §6.2: the formats are the variants)
- worst_perturbation = the perturbation with the largest accuracy_drop (its value; ties: first declared
  in `group`, every tied one in `tied_groups`)
CIs: rates (accuracy, flip_rate, worst_case_accuracy, per group too) are proportions: Wilson score
interval on the item-clustered effective n (draws of one item are correlated). Every other CI is a
seeded percentile bootstrap over base items; one set of resampled items serves every variant,
so differences are paired. accuracy_spread and accuracy_std get no CI: resampling items adds
noise to every variant's accuracy, so a bootstrapped range or std is biased upward and its
percentile interval can exclude the estimate (measured: std 0.020 with interval [0.021, 0.051]).
"""

from __future__ import annotations

import math
import zlib

import numpy as np

from harness.metrics.bootstrap import bootstrap_method, percentile_interval, proportion_interval, wilson_method
from harness.metrics.groups import TIE, group_breakdown
from harness.metrics.paired import mcnemar, paired_difference
from harness.metrics.persuasion import Settings
from harness.results.schema import GroupBreakdown, Metric, Sample


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

    def all_f(self) -> np.ndarray:
        return np.concatenate([self.f[p] for p in self.perturbations], axis=1)


def _cohens_h(p_pert: np.ndarray, p_orig: np.ndarray) -> np.ndarray:
    return (2 * np.arcsin(np.sqrt(p_pert)) - 2 * np.arcsin(np.sqrt(p_orig))) / math.pi


NO_RIGHT_ORIGINAL = "no original answer is right (Σ_i o_i = 0): a drop relative to nothing is undefined"


def _pdr(pert_mean: np.ndarray, orig: np.ndarray) -> float | None:
    total = orig.sum(axis=-1)
    if np.ndim(total) == 0:
        return None if total == 0 else float(1 - pert_mean.sum() / total)
    with np.errstate(divide="ignore", invalid="ignore"):
        return 1 - pert_mean.sum(axis=-1) / total  # type: ignore[return-value]


def _drop_test(o: np.ndarray, c: np.ndarray, items: list[str], cfg: Settings) -> tuple[float, str]:
    """p-value of no accuracy drop: McNemar's exact test with one draw per item; with several
    draws, the paired bootstrap test over items (McNemar would count draws as independent)."""
    if c.shape[1] == 1:
        mc = mcnemar(o.astype(bool).tolist(), c[:, 0].astype(bool).tolist())
        return mc.p_value, f"McNemar exact, discordant pairs {mc.b01} / {mc.b10}"
    d = paired_difference(np.repeat(o, c.shape[1]).tolist(), c.reshape(-1).tolist(),
                          np.repeat(np.asarray(items), c.shape[1]).tolist(), seed=cfg.seed,
                          resamples=cfg.resamples, level=cfg.level, name="robustness/drop")
    return d.p_value, d.method


class _Boot:
    """Resampled item indices shared by every statistic of one task (paired CIs)."""

    def __init__(self, n: int, cfg: Settings) -> None:
        rng = np.random.default_rng([cfg.seed, zlib.crc32(b"robustness")])
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


def robustness_metrics(samples: list[Sample], group_keys: list[str],
                       cfg: Settings) -> tuple[list[Metric], list[GroupBreakdown]]:
    data = Aligned(samples, group_keys)
    if not data.perturbations:
        return [], []
    boot = _Boot(len(data.items), cfg)
    n = len(data.items)
    metrics: list[Metric] = []

    bootstrap = bootstrap_method(cfg.level, cfg.resamples, cfg.seed)

    def add(name: str, value: float | None, ci: tuple[float | None, ...], count: int, formula: str,
            variant: str | None = None, **extra: str) -> None:
        method = ci[2] if len(ci) > 2 else bootstrap  # a rate's Wilson interval says so itself
        reason = NO_RIGHT_ORIGINAL if value is None and name == "performance_drop_rate" else None
        metrics.append(Metric(name=name, value=value, ci_low=ci[0], ci_high=ci[1], n=count, formula=formula,
                              ci_method=method if ci[0] is not None else None, variant=variant, reason=reason,
                              **extra))

    drops: dict[str, float] = {}
    acc_reps = [data.o[boot.idx].mean(axis=1)]  # original first
    acc_values = [float(data.o.mean())]
    for p in data.perturbations:
        c, f = data.c[p], data.f[p]
        s = c.shape[1]
        draws = f"over {s} draws per item" if s > 1 else "one draw per item"
        c_mean = c.mean(axis=1)
        acc_values.append(float(c_mean.mean()))
        acc_reps.append(c_mean[boot.idx].mean(axis=1))
        add("accuracy", float(c_mean.mean()), boot.rate(c), c.size,
            f"mean_ir 1[draw r of item i correct] ({draws}; invalid = wrong)", p)
        drop = data.o - c_mean
        drops[p] = float(drop.mean())
        add("accuracy_drop", drops[p], boot.mean(drop), n, "mean_i (1[original correct] - mean_r 1[draw r correct])", p)
        metrics[-1].p_value, metrics[-1].test = _drop_test(data.o, c, data.items, cfg)
        reps = _pdr(c_mean[boot.idx], data.o[boot.idx])
        add("performance_drop_rate", _pdr(c_mean, data.o), boot.ci(np.asarray(reps)), n,
            "1 - sum_i mean_r 1[draw correct] / sum_i 1[original correct] (PromptBench PDR)", p)
        add("flip_rate", float(f.mean()), boot.rate(f), f.size,
            "mean_ir 1[draw r chose another option than the original prompt] (FLUKE U%)", p)
        worst = c.min(axis=1)
        add("worst_case_accuracy", float(worst.mean()), boot.rate(worst), n,
            f"mean_i min_r 1[draw r correct] (ReCode RP_s@1, s = {s})", p)
        h = _cohens_h(c_mean, data.o)
        add("cohens_h", float(h.mean()), boot.mean(h), n,
            "mean_i (2 asin sqrt(mean_r c_ir) - 2 asin sqrt(o_i)) / pi (normalised Cohen's h)", p)

    all_c, all_f = data.all_c(), data.all_f()
    worst_all = all_c.min(axis=1)
    add("worst_case_accuracy", float(worst_all.mean()), boot.rate(worst_all), n,
        f"mean_i min over all {all_c.shape[1]} perturbed draws of 1[correct] (ReCode RP_s@1 over every perturbation)")
    all_mean = all_c.mean(axis=1)
    pdr_reps = np.asarray(_pdr(all_mean[boot.idx], data.o[boot.idx]))
    add("performance_drop_rate", _pdr(all_mean, data.o), boot.ci(pdr_reps), n,
        "1 - sum_i p_i / sum_i 1[original correct], p_i = share of item i's perturbed draws correct (PromptBench "
           "PDR over every perturbation)")
    add("flip_rate", float(all_f.mean()), boot.mean(all_f.mean(axis=1)), all_f.size,
        "mean over every perturbed draw of 1[another option than the original prompt] (FLUKE U%)")
    h_all = _cohens_h(all_c.mean(axis=1), data.o)
    add("cohens_h", float(h_all.mean()), boot.mean(h_all), n,
        "mean_i (2 asin sqrt(p_i) - 2 asin sqrt(o_i)) / pi, p_i = share of item i's perturbed draws correct")
    values = np.asarray(acc_values)
    reps = np.stack(acc_reps, axis=1)  # resamples x variants
    k = len(values)
    over = f"over {k} variants (original and each perturbation; When Punctuation Matters)"
    # No CI for spread and std: resampling items adds sampling noise to every variant's accuracy, so
    # bootstrapped spreads sit above the estimate (a percentile interval can exclude it entirely).
    no_ci = (None, None)
    add("accuracy_spread", float(values.max() - values.min()), no_ci, k,
        f"max_v accuracy_v - min_v accuracy_v {over}; no CI (a bootstrap of a range is biased upward)")
    add("accuracy_std", float(values.std(ddof=1)), no_ci, k,
        f"sample standard deviation (ddof 1) of accuracy_v {over}; no CI (biased upward under the bootstrap)")
    add("median_accuracy", float(np.median(values)), boot.ci(np.median(reps, axis=1)), k, f"median_v accuracy_v {over}")
    add("mean_drop", float(np.mean(values[0] - values[1:])), boot.ci(np.mean(reps[:, :1] - reps[:, 1:], axis=1)), k - 1,
        "mean over perturbations of (accuracy_original - accuracy_p)")
    worst_p = max(data.perturbations, key=lambda p: drops[p])  # first declared; every tied one named
    ties = [p for p in data.perturbations if abs(drops[p] - drops[worst_p]) <= TIE]
    src = next(m for m in metrics if m.name == "accuracy_drop" and m.variant == worst_p)
    add("worst_perturbation", src.value, (src.ci_low, src.ci_high), n,
        "the perturbation with the largest accuracy_drop; value = its accuracy_drop",
        group_key="perturbation", group=worst_p, tied_groups=ties if len(ties) > 1 else [])

    breakdowns: list[GroupBreakdown] = []
    items = np.asarray(data.items)
    for key in group_keys:
        labels = data.groups[key]
        for p in data.perturbations:
            c, f = data.c[p], data.f[p]
            s = c.shape[1]  # rates over every draw (clustered by item, Wilson); the drop per item
            for metric, values_i, per_draw, better in (("accuracy", c, True, True),
                                                       ("accuracy_drop", data.o - c.mean(axis=1), False, False),
                                                       ("flip_rate", f, True, False)):
                bd, _ = group_breakdown(values_i.reshape(-1), np.repeat(items, s) if per_draw else items,
                                        list(np.repeat(labels, s)) if per_draw else labels, key, seed=cfg.seed,
                                        resamples=cfg.resamples, level=cfg.level, min_group_size=cfg.min_group_size,
                                        metric=metric, variant=p, higher_is_better=better, proportion=per_draw)
                breakdowns.append(bd)
    return metrics, breakdowns
