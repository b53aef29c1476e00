"""pass@k and ReCode's robust metrics over executed code samples (SPEC.md §5.2).

Inputs, item-aligned: for item x, n samples of the nominal prompt (`original`) pass or fail (f_i(x)); for a
perturbation p drawn s times (ReCode's seeds; s = 1 for a deterministic one) sample i of draw j
passes or fails (f_i(x_j)). Sample i uses the same sampling seed on every variant, so samples are
aligned by index across variants, as ReCode aligns them.

- est(n, c, k) = 1 - C(n-c, k) / C(n, k)                 (Chen et al. 2021, unbiased; k <= n)
- pass@k = mean_x est(n, c(x), k), c(x) = #{i : f_i(x)}  (per perturbation: mean over x and its draws j)
- robust_pass@k (RP_s@k) = mean_x est(n, rc_s(x), k), rc_s(x) = #{i : f_i(x_j) for every draw j}
  (greedy, n = k = 1: mean_x min_j f(x_j), the worst case over the draws)
- robust_drop@k (RD_s@k) = (pass@k(nominal) - RP_s@k) / pass@k(nominal)   (undefined if pass@k = 0)
  A perturbation of partial code (ReCode's format perturbations) is compared with its own nominal,
  the same partial code unperturbed (`original_partial`); a scope whose perturbations have different
  nominals reports robust_pass@k only.
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

from dataclasses import dataclass, field
from types import EllipsisType

import numpy as np

from harness.metrics.bootstrap import named_rng, percentile_interval
from harness.metrics.groups import group_breakdown
from harness.metrics.persuasion import Settings
from harness.results.schema import GroupBreakdown, Metric, Sample

NOMINAL = "original"
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
    baselines: dict[str, np.ndarray] = field(default_factory=dict)  # other unperturbed prompts -> bool [items, n]
    baseline_of: dict[str, str] = field(default_factory=dict)  # perturbation -> its nominal (default `original`)
    perturbation_groups: dict[str, str] = field(default_factory=dict)  # perturbation -> its group
    verdicts: dict[str, np.ndarray] = field(default_factory=dict)  # variant -> verdict names [items, s, n]
    groups: dict[str, list[str]] = field(default_factory=dict)  # item group key -> label per item

    def __post_init__(self) -> None:
        n_items, n = self.nominal.shape
        for name, passes in self.perturbed.items():
            if passes.ndim != 3 or passes.shape[0] != n_items or passes.shape[2] != n:
                raise ValueError(f"perturbation '{name}' does not hold n = {n} samples of every draw of "
                                 f"every one of the {n_items} items")
        for name, passes in self.baselines.items():
            if passes.shape != self.nominal.shape:
                raise ValueError(f"'{name}' does not hold n = {n} samples of every one of the {n_items} items")
        unknown = set(self.baseline_of.values()) - set(self.baselines) - {NOMINAL}
        if unknown:
            raise ValueError(f"unknown nominal prompts: {sorted(unknown)}")

    def nominal_of(self, perturbations: list[str]) -> str | None:
        """The nominal prompt the perturbations are compared with; None if they have different ones."""
        names = {self.baseline_of.get(p, NOMINAL) for p in perturbations}
        return names.pop() if len(names) == 1 else None

    def passes(self, name: str) -> np.ndarray:
        return self.nominal if name == NOMINAL else self.baselines[name]

    @property
    def n(self) -> int:
        return int(self.nominal.shape[1])


def outcomes_from_samples(samples: list[Sample], *, n: int, group_keys: list[str],
                          baseline_of: dict[str, str] | None = None,
                          perturbation_groups: dict[str, str] | None = None) -> CodeOutcomes:
    """Item-aligned outcomes from a code run's samples: `original` and the other unperturbed prompts
    (`original_partial`) by (item, sample), every perturbation by (item, draw, sample)."""
    items = list(dict.fromkeys(s.item_id for s in samples if s.variant == NOMINAL))
    pos = {item: i for i, item in enumerate(items)}
    cells: dict[str, dict[tuple[int, int, int], Sample]] = {}
    for s in samples:
        cells.setdefault(s.perturbation or s.variant, {})[(pos[s.item_id], s.repeat, s.sample_index)] = s
    passes: dict[str, np.ndarray] = {}
    verdicts: dict[str, np.ndarray] = {}
    for name, cell in cells.items():
        draws = 1 + max(r for _, r, _ in cell)
        if len(cell) != len(items) * draws * n:
            raise ValueError(f"'{name}' does not hold {n} samples of every draw of every one of the {len(items)} items")
        passes[name] = np.zeros((len(items), draws, n), bool)
        verdicts[name] = np.empty((len(items), draws, n), object)
        for (i, r, k), sample in cell.items():
            passes[name][i, r, k] = sample.correct
            verdicts[name][i, r, k] = sample.execution.verdict.value if sample.execution else sample.predicted
    perturbed = {s.perturbation for s in samples if s.perturbation is not None}
    first = {s.item_id: s for s in samples if s.variant == NOMINAL and s.sample_index == 0}
    return CodeOutcomes(
        items=items, nominal=passes[NOMINAL][:, 0, :],
        perturbed={p: passes[p] for p in cells if p in perturbed},
        baselines={b: passes[b][:, 0, :] for b in cells if b not in perturbed and b != NOMINAL},
        baseline_of=dict(baseline_of or {}), perturbation_groups=dict(perturbation_groups or {}),
        verdicts=verdicts, groups={k: [first[i].groups[k] for i in items] for k in group_keys})


class _Items:
    """Per-item values to metrics: the value, a paired bootstrap CI over items, the formula."""

    def __init__(self, outcomes: CodeOutcomes, cfg: Settings) -> None:
        rng = named_rng(cfg.seed, "passk")
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


def _scopes(outcomes: CodeOutcomes) -> list[tuple[str | None, list[str], str | None]]:
    """(scope, its perturbations, group key): each perturbation, each perturbation group of several, and all."""
    scopes: list[tuple[str | None, list[str], str | None]] = [(p, [p], None) for p in outcomes.perturbed]
    by_group: dict[str, list[str]] = {}
    for p, g in outcomes.perturbation_groups.items():
        by_group.setdefault(g, []).append(p)
    scopes += [(g, ps, "perturbation_group") for g, ps in sorted(by_group.items()) if len(ps) > 1]
    if len(outcomes.perturbed) > 1:
        scopes.append((None, list(outcomes.perturbed), None))
    return scopes


def _verdict_rates(out: _Items, outcomes: CodeOutcomes) -> None:
    n_items = len(outcomes.items)
    for variant, verdicts in outcomes.verdicts.items():
        for verdict in COUNTED:
            share = (verdicts == verdict).reshape(n_items, -1).mean(axis=1)
            out.add(f"{verdict}_rate", share, f"share of executions ending as {verdict} "
                    f"({verdicts.size // n_items} per item)", int(verdicts.size), variant)


def passk_metrics(outcomes: CodeOutcomes, ks: list[int],
                  cfg: Settings) -> tuple[list[Metric], list[GroupBreakdown]]:
    out = _Items(outcomes, cfg)
    n, n_items = outcomes.n, len(outcomes.items)
    breakdowns: list[GroupBreakdown] = []
    samples = f"{n} sample{'s' if n > 1 else ''} per prompt"
    scopes = _scopes(outcomes)
    for k in [k for k in ks if k <= n]:
        item_values: dict[str, np.ndarray] = {}
        nominal_k: dict[str, np.ndarray] = {}
        for name in [NOMINAL, *outcomes.baselines]:
            nominal_k[name] = pass_at_k(n, outcomes.passes(name).sum(axis=1), k)
            item_values[name] = nominal_k[name]
            out.add(f"pass@{k}", nominal_k[name], f"mean_x est(n, c(x), {k}), {samples} (Chen et al. unbiased "
                    "estimator)", n_items, name)
        for scope, names, group_key in scopes:
            draws = np.concatenate([outcomes.perturbed[p] for p in names], axis=1)
            base_name = outcomes.nominal_of(names)
            base = outcomes.passes(base_name or NOMINAL)
            perturbed, rp, rr = _robust(base, draws, k)
            s = draws.shape[1]
            over = f"s = {s} draw{'s' if s > 1 else ''}" + (f" of {len(names)} perturbations" if len(names) > 1 else "")
            where = dict(variant=scope) if group_key is None else dict(group_key=group_key, group=scope)
            if len(names) == 1:
                out.add(f"pass@{k}", perturbed, f"mean over items and draws of est(n, c(x_j), {k}), {samples}", n_items,
                        **where)
                item_values[str(scope)] = perturbed
            out.add(f"robust_pass@{k}", rp, f"mean_x est(n, #{{i : sample i passes on all {s} draws}}, {k}) "
                    f"(ReCode RP_s@k, {over})", n_items, **where)
            if scope is not None and group_key is None:
                item_values[f"robust:{scope}"] = rp
            if base_name is None:
                continue  # perturbations of different nominal prompts: no common reference for RD and RR
            vs = f"against {base_name}"
            base_k = nominal_k[base_name]
            base_reps = base_k[out.idx].mean(axis=1)
            mean = float(base_k.mean())
            rd_reps = np.where(base_reps > 0, (base_reps - rp[out.idx].mean(axis=1)) / np.where(
                base_reps > 0, base_reps, 1), np.nan)
            out.add(f"robust_drop@{k}", rp, f"(pass@{k} - robust_pass@{k}) / pass@{k}, {vs} (ReCode RD_s@k, {over}); "
                    f"undefined when pass@{k} = 0", n_items, reps=rd_reps,
                    value=(mean - float(rp.mean())) / mean if mean > 0 else None, **where)
            out.add(f"robust_relative@{k}", rr, f"mean_x [est(n, rc-(x), {k}) + est(n, rc+(x), {k})]: samples "
                    f"passing nominally and failing some draw, failing nominally and passing some draw, {vs} "
                    f"(ReCode RR_s@k, {over})", n_items, **where)
        for key, labels in outcomes.groups.items():
            for variant, values in item_values.items():
                metric = f"robust_pass@{k}" if variant.startswith("robust:") else f"pass@{k}"
                bd, _ = group_breakdown(values, np.asarray(outcomes.items), labels, key, seed=cfg.seed,
                                        resamples=cfg.resamples, level=cfg.level, min_group_size=cfg.min_group_size,
                                        metric=metric, variant=variant.removeprefix("robust:"))
                breakdowns.append(bd)
    _verdict_rates(out, outcomes)
    return out.metrics, breakdowns
