"""Robustness metrics: every perturbed variant against `original`, item by item (SPEC.md §5–8).

Per item i: o_i = 1[original answer correct], and for a perturbation p drawn s times (ReCode's s
randomized draws; s = 1 for deterministic ones) c_ir = 1[draw r correct], f_ir = 1[draw r chose a
different option than the original prompt did]. Options are compared as the item's own options,
so an answer that follows its option through a shuffle or a relabelling is not a flip. An invalid
answer is never correct and is a flip unless the original answer was invalid too.
acc_o = mean_i o_i; acc_p = mean_ir c_ir.

Per perturbation p (metric `variant` = p):
- accuracy = acc_p
- accuracy_drop = mean_i (o_i - mean_r c_ir)                         (paired; = acc_o - acc_p)
- performance_drop_rate = 1 - Σ_i mean_r c_ir / Σ_i o_i              (PromptBench PDR, §7.2; undefined if Σ o = 0)
- flip_rate = mean_ir f_ir                                          (FLUKE unrobustness U%, §7.1)
- worst_case_accuracy = mean_i min_r c_ir                           (ReCode RP_s@1, §5.2; = accuracy when s = 1)
- cohens_h = (2·asin√acc_p − 2·asin√acc_o) / π                      (normalised Cohen's h, §8, on the proportions)
- robust_drop = (Pass@1 − RP_s@1) / Pass@1, Pass@1 = acc_o, RP_s@1 = worst_case_accuracy
                                                                    (ReCode Robust Drop_s@1, §5.2; undefined if Σ o = 0)
- robust_relative = mean_i (1[o_i = 1 and min_r c_ir = 0] + 1[o_i = 0 and max_r c_ir = 1])
                                                                    (ReCode Robust Relative_s@1, §5.2)
Over all perturbations (metric `variant` = None), each of the P perturbations weighing equally
(PromptBench averages per attack), however many draws it has:
- performance_drop_rate, flip_rate, cohens_h = (1/P) Σ_p of the per-perturbation value
- worst_case_accuracy = mean_i min over every perturbed draw of c   (RP_s@1 over all perturbations)
- robust_drop, robust_relative with min_r / max_r over every perturbed draw of the item
- accuracy_spread = max_v acc_v − min_v acc_v and accuracy_std (sample std, ddof 1) over the
  variants v = original and each perturbation; median_accuracy; mean_drop = mean_p accuracy_drop_p
  (When Punctuation Matters, §6.2: the formats are the variants)
- worst_perturbation = the perturbation with the largest accuracy_drop (its value; ties: first declared
  in `group`, every tied one in `tied_groups`)
Cohen's h is taken on the proportions, not averaged per item: per item, with 0/1 outcomes and one
draw, h_i = c_i − o_i, so the per-item mean is exactly minus the accuracy drop, and with several
draws it can take the opposite sign of PDR (seen: +0.051 against h on the proportions −0.0009 and
PDR +0.005).
CIs: rates (accuracy, flip_rate, worst_case_accuracy, per group too) are proportions: Wilson score
interval on the item-clustered effective n (draws of one item are correlated). Every other CI is a
seeded percentile bootstrap over base items; one set of resampled items serves every variant,
so differences are paired. accuracy_spread and accuracy_std get no CI: resampling items adds
noise to every variant's accuracy, so a bootstrapped range or std is biased upward and its
percentile interval can exclude the estimate (measured: std 0.020 with interval [0.021, 0.051]).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from harness.metrics.aligned import Aligned, Boot, drop_test
from harness.metrics.bootstrap import bootstrap_method
from harness.metrics.groups import TIE, group_breakdown
from harness.metrics.persuasion import Settings
from harness.results.schema import GroupBreakdown, Metric, Sample

NO_RIGHT_ORIGINAL = "no original answer is right (Σ_i o_i = 0): a drop relative to nothing is undefined"
EQUAL = "each perturbation weighing equally (PromptBench averages per attack)"
Interval = tuple[Any, ...]  # (low, high) or (low, high, ci_method)


def cohens_h(p_pert: np.ndarray | float, p_orig: np.ndarray | float) -> np.ndarray:
    """Normalised Cohen's h between two proportions (arrays: replicate by replicate)."""
    return (2 * np.arcsin(np.sqrt(p_pert)) - 2 * np.arcsin(np.sqrt(p_orig))) / math.pi


def robust_drop(nominal: Any, robust: Any) -> Any:
    """ReCode Robust Drop_s@k = (Pass@k − RP_s@k) / Pass@k (SPEC.md §5.2) from per-item values along the
    last axis: nominal_i = item i's pass estimate on its nominal prompt (greedy: 1[correct]; sampling:
    est(n, c_i, k)) and robust_i = its robust pass (greedy: min over the s variants; sampling:
    est(n, rc_s(i), k)). None (a float) or NaN (replicate arrays) when Pass@k = 0."""
    nominal, robust = np.asarray(nominal, float), np.asarray(robust, float)
    passed = nominal.mean(axis=-1)
    if np.ndim(passed) == 0:
        return None if passed == 0 else float((passed - robust.mean()) / passed)
    with np.errstate(divide="ignore", invalid="ignore"):
        return (passed - robust.mean(axis=-1)) / passed


def robust_relative(to_fail: Any, to_pass: Any) -> Any:
    """ReCode Robust Relative_s@k = RC⁻_s@k + RC⁺_s@k (SPEC.md §5.2): the mean over items of the changes
    away from the nominal outcome, along the last axis. Greedy (`greedy_changes`): to_fail_i = 1[nominal
    right and some variant wrong], to_pass_i = 1[nominal wrong and some variant right]; sampling:
    est(n, ·, k) of the per-item counts of such flipped samples."""
    total = np.asarray(to_fail, float) + np.asarray(to_pass, float)
    return float(total.mean()) if total.ndim == 1 else total.mean(axis=-1)


def greedy_changes(nominal: Any, draws: Any) -> tuple[np.ndarray, np.ndarray]:
    """Per item, for 0/1 outcomes: (1[nominal = 1 and min_j draw_j = 0], 1[nominal = 0 and max_j draw_j = 1])."""
    o, d = np.asarray(nominal, float), np.asarray(draws, float)
    return o * (1 - d.min(axis=1)), (1 - o) * d.max(axis=1)


def _pdr(pert_mean: np.ndarray, orig: np.ndarray) -> float | None:
    total = orig.sum(axis=-1)
    if np.ndim(total) == 0:
        return None if total == 0 else float(1 - pert_mean.sum() / total)
    with np.errstate(divide="ignore", invalid="ignore"):
        return 1 - pert_mean.sum(axis=-1) / total  # type: ignore[return-value]


class _Metrics(list[Metric]):
    """The metrics of one run, added with their interval (bootstrap unless the interval says otherwise)."""

    def __init__(self, cfg: Settings) -> None:
        super().__init__()
        self.bootstrap = bootstrap_method(cfg.level, cfg.resamples, cfg.seed)

    def add(self, name: str, value: float | None, ci: Interval, count: int, formula: str,
            variant: str | None = None, **extra: Any) -> Metric:
        method = ci[2] if len(ci) > 2 else self.bootstrap  # a rate's Wilson interval says so itself
        reason = NO_RIGHT_ORIGINAL if value is None and name in ("performance_drop_rate", "robust_drop") else None
        self.append(Metric(name=name, value=value, ci_low=ci[0], ci_high=ci[1], n=count, formula=formula,
                           ci_method=method if ci[0] is not None else None, variant=variant, reason=reason, **extra))
        return self[-1]


def robustness_metrics(samples: list[Sample], group_keys: list[str],
                       cfg: Settings) -> tuple[list[Metric], list[GroupBreakdown]]:
    data = Aligned(samples, group_keys)
    if not data.perturbations:
        return [], []
    boot = Boot(len(data.items), cfg)
    metrics = _Metrics(cfg)
    o_reps = data.o[boot.idx].mean(axis=1)
    acc_reps, acc_values = [o_reps], [float(data.o.mean())]  # original first
    pooled: dict[str, list[tuple[float | None, np.ndarray]]] = {"performance_drop_rate": [], "flip_rate": [],
                                                                "cohens_h": []}
    drops: dict[str, float] = {}
    for p in data.perturbations:
        acc, reps_p, drops[p] = _per_perturbation(metrics.add, boot, data, p, o_reps, pooled)
        acc_values.append(acc)
        acc_reps.append(reps_p)
    _over_perturbations(metrics.add, boot, data, pooled)
    _spread(metrics.add, boot, np.asarray(acc_values), np.stack(acc_reps, axis=1))
    n = len(data.items)
    worst_p = max(data.perturbations, key=lambda p: drops[p])  # first declared; every tied one named
    ties = [p for p in data.perturbations if abs(drops[p] - drops[worst_p]) <= TIE]
    src = next(m for m in metrics if m.name == "accuracy_drop" and m.variant == worst_p)
    metrics.add("worst_perturbation", src.value, (src.ci_low, src.ci_high), n,
                "the perturbation with the largest accuracy_drop; value = its accuracy_drop",
                group_key="perturbation", group=worst_p, tied_groups=ties if len(ties) > 1 else [])
    return list(metrics), _breakdowns(data, group_keys, cfg)


def _per_perturbation(add: Any, boot: Boot, data: Aligned, p: str, o_reps: np.ndarray,
                      pooled: dict[str, list[tuple[float | None, np.ndarray]]]) -> tuple[float, np.ndarray, float]:
    """Perturbation p's metrics; returns its accuracy, that accuracy's replicates and its accuracy drop."""
    c, f, n = data.c[p], data.f[p], len(data.items)
    s = c.shape[1]
    draws = f"over {s} draws per item" if s > 1 else "one draw per item"
    c_mean = c.mean(axis=1)
    acc, reps_p = float(c_mean.mean()), c_mean[boot.idx].mean(axis=1)
    add("accuracy", acc, boot.rate(c), c.size, f"mean_ir 1[draw r of item i correct] ({draws}; invalid = wrong)", p)
    drop = data.o - c_mean
    m = add("accuracy_drop", float(drop.mean()), boot.mean(drop), n,
            "mean_i (1[original correct] - mean_r 1[draw r correct])", p)
    m.p_value, m.test = drop_test(data.o, c, data.items, boot.cfg)
    pdr, pdr_reps = _pdr(c_mean, data.o), np.asarray(_pdr(c_mean[boot.idx], data.o[boot.idx]))
    add("performance_drop_rate", pdr, boot.ci(pdr_reps), n,
        "1 - sum_i mean_r 1[draw correct] / sum_i 1[original correct] (PromptBench PDR)", p)
    add("flip_rate", float(f.mean()), boot.rate(f), f.size,
        "mean_ir 1[draw r chose another option than the original prompt] (FLUKE U%)", p)
    worst = c.min(axis=1)
    add("worst_case_accuracy", float(worst.mean()), boot.rate(worst), n,
        f"mean_i min_r 1[draw r correct] (ReCode RP_s@1, s = {s})", p)
    h, h_reps = float(cohens_h(acc, float(data.o.mean()))), cohens_h(reps_p, o_reps)
    add("cohens_h", h, boot.ci(h_reps), n,
        "(2 asin sqrt(accuracy_p) - 2 asin sqrt(accuracy_original)) / pi (normalised Cohen's h on the "
        "proportions)", p)
    _recode(add, boot, data.o, c, f"s = {s}", p)
    pooled["performance_drop_rate"].append((pdr, pdr_reps))
    pooled["flip_rate"].append((float(f.mean()), f.mean(axis=1)[boot.idx].mean(axis=1)))
    pooled["cohens_h"].append((h, h_reps))
    return acc, reps_p, float(drop.mean())


def _over_perturbations(add: Any, boot: Boot, data: Aligned,
                        pooled: dict[str, list[tuple[float | None, np.ndarray]]]) -> None:
    """Worst case over every perturbed draw, and the per-perturbation rates averaged with equal weight."""
    n = len(data.items)
    all_c = data.all_c()
    worst_all = all_c.min(axis=1)
    add("worst_case_accuracy", float(worst_all.mean()), boot.rate(worst_all), n,
        f"mean_i min over all {all_c.shape[1]} perturbed draws of 1[correct] (ReCode RP_s@1 over every perturbation)")
    _recode(add, boot, data.o, all_c, f"every perturbed draw ({all_c.shape[1]})", None)
    k_p = len(data.perturbations)
    for name, what in (("performance_drop_rate", "PDR_p"), ("flip_rate", "flip_rate_p"), ("cohens_h", "h_p")):
        values = [v for v, _ in pooled[name]]
        value = None if any(v is None for v in values) else float(np.mean(values))  # type: ignore[arg-type]
        add(name, value, boot.ci(np.mean([r for _, r in pooled[name]], axis=0)), n,
            f"(1/P) Σ_p {what} over the P = {k_p} perturbations, {EQUAL}")


def _spread(add: Any, boot: Boot, values: np.ndarray, reps: np.ndarray) -> None:
    """Spread of accuracy over the variants (original first); `reps`: resamples x variants."""
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


def _recode(add: Any, boot: Boot, o: np.ndarray, c: np.ndarray, over: str, variant: str | None) -> None:
    """ReCode's Robust Drop_s@1 and Robust Relative_s@1 of the draws `c` (items × draws) against `o`."""
    worst = c.min(axis=1)
    add("robust_drop", robust_drop(o, worst), boot.ci(np.asarray(robust_drop(o[boot.idx], worst[boot.idx]))), len(o),
        f"(Pass@1 - RP_s@1) / Pass@1, Pass@1 = mean_i o_i, RP_s@1 = mean_i min_r c_ir over {over} "
        "(ReCode Robust Drop_s@1)", variant)
    change = np.sum(greedy_changes(o, c), axis=0)  # 0/1 per item: the nominal outcome changed
    add("robust_relative", robust_relative(*greedy_changes(o, c)), boot.rate(change), len(o),
        f"mean_i (1[o_i = 1, min_r c_ir = 0] + 1[o_i = 0, max_r c_ir = 1]) over {over} (ReCode Robust Relative_s@1)",
        variant)


def _breakdowns(data: Aligned, group_keys: list[str], cfg: Settings) -> list[GroupBreakdown]:
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
    return breakdowns
