"""pass@k and ReCode's robust metrics over executed code samples (SPEC.md §5.2).

Inputs, item-aligned: for item x, n samples of the nominal prompt pass or fail (f_i(x)); for a
perturbation p drawn s times (ReCode's seeds; s = 1 for a deterministic one) sample i of draw j
passes or fails (f_i(x_j)). Sample i uses the same sampling seed on every variant, so samples are
aligned by index across variants, as ReCode aligns them.

- est(n, c, k) = 1 - C(n-c, k) / C(n, k)                 (Chen et al. 2021, unbiased; k <= n)
- pass@k = mean_x est(n, c(x), k), c(x) = #{i : f_i(x)}  (per perturbation: mean over x and its draws j)
- robust_pass@k (RP_s@k) = mean_x est(n, rc_s(x), k), rc_s(x) = #{i : f_i(x_j) for every draw j}
  (greedy, n = k = 1: mean_x min_j f(x_j), the worst case over the draws)
- robust_drop@k (RD_s@k) = (pass@k(nominal) - RP_s@k) / pass@k(nominal)   (undefined if pass@k = 0)
- robust_relative@k (RR_s@k) = mean_x [est(n, rc-(x), k) + est(n, rc+(x), k)],
  rc-(x) = #{i : f_i(x) and not every f_i(x_j)}, rc+(x) = #{i : not f_i(x) and some f_i(x_j)}
  (greedy: share of items whose nominal outcome differs from the worst or the best draw). For
  k = 1 this equals ReCode's code; for k > 1 SPEC.md's split is used (ReCode's code counts a
  nominal failure whose every draw passes among rc-).
Each is reported per perturbation, per perturbation group (the worst case over the group's
perturbations) and over all perturbations. Timeouts, syntax errors and crashes are counted
separately: the share of executions per variant with that verdict.
CIs: seeded percentile bootstrap over items (one value per item, so clustered by item); one set of
resampled items serves every variant, so drops are paired.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from types import EllipsisType

import numpy as np

from harness.metrics.bootstrap import percentile_interval
from harness.metrics.groups import group_breakdown
from harness.metrics.persuasion import Settings
from harness.results.schema import GroupBreakdown, Metric

NOMINAL = "nominal"
COUNTED = ("timeout", "syntax_error", "crashed")


def pass_at_k(n: int, c: int | np.ndarray, k: int) -> float | np.ndarray:
    """Chen et al.'s unbiased estimator 1 - C(n-c, k) / C(n, k), stable for large n (vectorised over c)."""
    if not 1 <= k <= n:
        raise ValueError(f"pass@k needs 1 <= k <= n (k = {k}, n = {n})")
    c = np.asarray(c)
    if np.any((c < 0) | (c > n)):
        raise ValueError(f"pass counts must lie in [0, n = {n}]")
    # 1 - prod_{m=n-c+1}^{n} (1 - k/m), which is 1 exactly when n - c < k
    m = np.arange(1, n + 1, dtype=float)
    log_terms = np.log1p(-np.minimum(k / m, 1.0), where=m > k, out=np.full(n, -np.inf))
    cumulative = np.concatenate([[0.0], np.cumsum(log_terms[::-1])])  # sum over the top c values of m
    result = np.where(n - c < k, 1.0, 1.0 - np.exp(cumulative[np.minimum(c, n)]))
    return float(result) if result.ndim == 0 else result


@dataclass
class CodeOutcomes:
    """Every executed sample of one code task, item-aligned."""

    items: list[str]
    nominal: np.ndarray  # bool [items, n]
    perturbed: dict[str, np.ndarray] = field(default_factory=dict)  # perturbation -> bool [items, s, n]
    perturbation_groups: dict[str, str] = field(default_factory=dict)  # perturbation -> its group
    verdicts: dict[str, np.ndarray] = field(default_factory=dict)  # variant -> verdict names [items, s, n]
    groups: dict[str, list[str]] = field(default_factory=dict)  # item group key -> label per item

    def __post_init__(self) -> None:
        n_items, n = self.nominal.shape
        for name, passes in self.perturbed.items():
            if passes.ndim != 3 or passes.shape[0] != n_items or passes.shape[2] != n:
                raise ValueError(f"perturbation '{name}' does not hold n = {n} samples of every draw of "
                                 f"every one of the {n_items} items")

    @property
    def n(self) -> int:
        return int(self.nominal.shape[1])


class _Items:
    """Per-item values to metrics: the value, a paired bootstrap CI over items, the formula."""

    def __init__(self, outcomes: CodeOutcomes, cfg: Settings) -> None:
        rng = np.random.default_rng([cfg.seed, zlib.crc32(b"passk")])
        n_items = len(outcomes.items)
        self.idx = rng.integers(0, n_items, size=(cfg.resamples, n_items), dtype=np.int32)
        self.cfg = cfg
        self.metrics: list[Metric] = []

    def add(self, name: str, per_item: np.ndarray, formula: str, n: int, variant: str | None = None,
            reps: np.ndarray | None = None, value: float | None | EllipsisType = ..., **extra: str) -> None:
        if value is ...:
            value = float(per_item.mean())
        reps = per_item[self.idx].mean(axis=1) if reps is None else reps
        reps = reps[np.isfinite(reps)]
        low, high = percentile_interval(reps, self.cfg.level) if len(reps) >= 0.9 * len(self.idx) else (None, None)
        self.metrics.append(Metric(name=name, value=value, ci_low=low, ci_high=high, n=n, formula=formula,
                                   ci_method=self.cfg.ci if low is not None else None, variant=variant, **extra))


def _robust(nominal: np.ndarray, draws: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per item: pass@k over the draws, RP_s@k, RR_s@k (draws: bool [items, s, n])."""
    n = nominal.shape[1]
    perturbed = pass_at_k(n, draws.sum(axis=2), k).mean(axis=1)
    worst, best = draws.all(axis=1), draws.any(axis=1)
    rp = pass_at_k(n, worst.sum(axis=1), k)
    rr = pass_at_k(n, (nominal & ~worst).sum(axis=1), k) + pass_at_k(n, (~nominal & best).sum(axis=1), k)
    return perturbed, rp, rr


def passk_metrics(outcomes: CodeOutcomes, ks: list[int],
                  cfg: Settings) -> tuple[list[Metric], list[GroupBreakdown]]:
    out = _Items(outcomes, cfg)
    n, n_items = outcomes.n, len(outcomes.items)
    breakdowns: list[GroupBreakdown] = []
    samples = f"{n} sample{'s' if n > 1 else ''} per prompt"
    scopes = [(p, [p], None) for p in outcomes.perturbed]
    by_group: dict[str, list[str]] = {}
    for p, g in outcomes.perturbation_groups.items():
        by_group.setdefault(g, []).append(p)
    scopes += [(g, ps, "perturbation_group") for g, ps in sorted(by_group.items()) if len(ps) > 1]
    if len(outcomes.perturbed) > 1:
        scopes.append((None, list(outcomes.perturbed), None))
    for k in [k for k in ks if k <= n]:
        nominal = pass_at_k(n, outcomes.nominal.sum(axis=1), k)
        nominal_reps = nominal[out.idx].mean(axis=1)
        out.add(f"pass@{k}", nominal, f"mean_x est(n, c(x), {k}), {samples} (Chen et al. unbiased estimator)",
                n_items, NOMINAL)
        item_values = {NOMINAL: nominal}
        for scope, names, group_key in scopes:
            draws = np.concatenate([outcomes.perturbed[p] for p in names], axis=1)
            perturbed, rp, rr = _robust(outcomes.nominal, draws, k)
            s = draws.shape[1]
            over = f"s = {s} draw{'s' if s > 1 else ''}" + (f" of {len(names)} perturbations" if len(names) > 1 else "")
            where = dict(variant=scope) if group_key is None else dict(group_key=group_key, group=scope)
            if len(names) == 1:
                out.add(f"pass@{k}", perturbed, f"mean over items and draws of est(n, c(x_j), {k}), {samples}", n_items,
                        **where)
                item_values[scope] = perturbed
            out.add(f"robust_pass@{k}", rp, f"mean_x est(n, #{{i : sample i passes on all {s} draws}}, {k}) "
                    f"(ReCode RP_s@k, {over})", n_items, **where)
            base = float(nominal.mean())
            rd_reps = np.where(nominal_reps > 0, (nominal_reps - rp[out.idx].mean(axis=1)) / np.where(
                nominal_reps > 0, nominal_reps, 1), np.nan)
            out.add(f"robust_drop@{k}", rp, f"(pass@{k} nominal - robust_pass@{k}) / pass@{k} nominal "
                    f"(ReCode RD_s@k, {over}); undefined when nominal pass@{k} = 0", n_items, reps=rd_reps,
                    value=(base - float(rp.mean())) / base if base > 0 else None, **where)
            out.add(f"robust_relative@{k}", rr, f"mean_x [est(n, rc-(x), {k}) + est(n, rc+(x), {k})]: samples "
                    f"passing nominally and failing some draw, failing nominally and passing some draw (ReCode "
                    f"RR_s@k, {over})", n_items, **where)
            if scope is not None and group_key is None:
                item_values[f"robust:{scope}"] = rp
        for key, labels in outcomes.groups.items():
            for variant, values in item_values.items():
                metric = f"robust_pass@{k}" if variant.startswith("robust:") else f"pass@{k}"
                bd, _ = group_breakdown(values, np.asarray(outcomes.items), labels, key, seed=cfg.seed,
                                        resamples=cfg.resamples, level=cfg.level, min_group_size=cfg.min_group_size,
                                        metric=metric, variant=variant.removeprefix("robust:"))
                breakdowns.append(bd)
    for variant, verdicts in outcomes.verdicts.items():
        for verdict in COUNTED:
            share = (verdicts == verdict).reshape(n_items, -1).mean(axis=1)
            out.add(f"{verdict}_rate", share, f"share of executions ending as {verdict} "
                    f"({verdicts.size // n_items} per item)", int(verdicts.size), variant)
    return out.metrics, breakdowns
