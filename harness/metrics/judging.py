"""Judge metrics (docs/metrics.md): the judge's grades, its agreement with human grades, pairwise outcomes.

- judge_pass_rate = #passing grades / #valid grades (pass_label, or grade >= pass_threshold on a scale).
- judge_invalid_rate = #judge outputs with no readable grade / #samples (left out of every other rate,
  and counted in their `excluded`).
- judge_mean_score (scale): mean grade over valid grades; percentile bootstrap over items.
- judge_grade_rate/<grade> (labels): #samples with that grade / #valid grades.
- with human grades (`judge.human`), on the samples that have one: judge_human_accuracy = #(judge grade
  = human grade) / #samples, an unreadable judge grade counting as a disagreement; judge_kappa = Cohen's
  κ = (p_o − p_e) / (1 − p_e), p_e = Σ_c p_judge(c) · p_human(c) (unreadable = its own category);
  percentile bootstrap over items.
- pairwise: win_rate, loss_rate, tie_rate = #outcome / #valid pairs of verdicts (a win or loss only when
  both orders agree); position_consistency_rate = #pairs whose two verdicts pick the same answer (or
  both tie) / #valid pairs.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from harness.core.plugins import METRICS
from harness.metrics.bootstrap import bootstrap_method, named_rng, percentile_interval
from harness.metrics.family import MetricContext, MetricSet
from harness.metrics.groups import estimate_mean
from harness.metrics.info import MetricInfo, declare
from harness.metrics.rates import Rates
from harness.results.schema import Metric, Sample

UNREADABLE = "\x00invalid"

declare(
    MetricInfo(name="judge_pass_rate", display="judge pass", unit="rate", higher_is_better=True,
               description="share of valid judge grades that pass"),
    MetricInfo(name="judge_invalid_rate", display="judge invalid", unit="rate", higher_is_better=False,
               description="share of judge outputs with no readable grade"),
    MetricInfo(name="judge_mean_score", display="judge score", unit="number", higher_is_better=True,
               description="mean judge grade on the scale"),
    MetricInfo(name="judge_grade_rate", display="judge grade", unit="rate", higher_is_better=None,
               description="share of valid judge grades with this grade"),
    MetricInfo(name="judge_human_accuracy", display="judge = human", unit="rate", higher_is_better=True,
               description="share of samples where the judge's grade equals the human grade"),
    MetricInfo(name="judge_kappa", display="judge κ", unit="number", higher_is_better=True,
               description="Cohen's kappa between judge and human grades"),
    MetricInfo(name="win_rate", display="wins", unit="rate", higher_is_better=True,
               description="share of pairs the subject's answer wins in both orders"),
    MetricInfo(name="loss_rate", display="losses", unit="rate", higher_is_better=False,
               description="share of pairs the other answer wins in both orders"),
    MetricInfo(name="tie_rate", display="ties", unit="rate", higher_is_better=None,
               description="share of pairs with no consistent winner"),
    MetricInfo(name="position_consistency_rate", display="position consistency", unit="rate",
               higher_is_better=True, description="share of pairs whose two orders give the same verdict"),
)


def cohen_kappa(a: Sequence[str], b: Sequence[str]) -> float | None:
    """κ of two raters on the same samples; None when chance agreement is 1 (one category only)."""
    x, y = np.asarray(a, dtype=object), np.asarray(b, dtype=object)
    if len(x) == 0:
        return None
    p_o = float(np.mean(x == y))
    p_e = sum(float(np.mean(x == c)) * float(np.mean(y == c)) for c in set(x.tolist()) | set(y.tolist()))
    return None if p_e >= 1.0 else (p_o - p_e) / (1.0 - p_e)


def kappa_metric(judge: list[str], human: list[str], items: list[str], ctx: MetricContext) -> Metric:
    formula = "Cohen's kappa (p_o - p_e) / (1 - p_e), p_e = sum_c p_judge(c) p_human(c); unreadable = own category"
    value = cohen_kappa(judge, human)
    if value is None:
        return Metric(name="judge_kappa", value=None, n=len(judge), formula=formula,
                      reason="chance agreement is 1 (judge and human use one and the same grade)")
    b = ctx.boot
    rng = named_rng(b.seed, "judge_kappa")
    by_item: dict[str, list[int]] = {}
    for i, item in enumerate(items):
        by_item.setdefault(item, []).append(i)
    groups = list(by_item.values())
    reps = []
    for _ in range(b.resamples):
        picked = [i for k in rng.integers(0, len(groups), len(groups)) for i in groups[k]]
        k = cohen_kappa([judge[i] for i in picked], [human[i] for i in picked])
        if k is not None:
            reps.append(k)
    low, high = percentile_interval(np.asarray(reps), b.level) if reps else (None, None)
    return Metric(name="judge_kappa", value=value, ci_low=low, ci_high=high, n=len(judge), formula=formula,
                  ci_method=bootstrap_method(b.level, b.resamples, b.seed) + " (replicates with one category left out)")


def _agreement(ctx: MetricContext, s: list[Sample], rates: Rates, grades: list[str | None]) -> list[Metric]:
    keep = [i for i, x in enumerate(s) if x.judge is not None and x.judge.human is not None]
    if not keep:
        return []
    judge = [grades[i] or UNREADABLE for i in keep]
    human = [str(s[i].judge.human) for i in keep]  # type: ignore[union-attr]
    mask = np.zeros(len(s), dtype=bool)
    mask[keep] = True
    same = np.asarray([(g or UNREADABLE) == (x.judge.human if x.judge else None) for g, x in zip(grades, s)])
    return [rates.rate("judge_human_accuracy", "#(judge grade = human grade) / #samples with a human grade "
                       "(an unreadable judge grade is a disagreement)", same, mask),
            kappa_metric(judge, human, [s[i].item_id for i in keep], ctx)]


def _score_mean(ctx: MetricContext, s: list[Sample], grades: list[str | None]) -> Metric:
    values = [(float(g), x.item_id) for g, x in zip(grades, s) if g is not None]
    formula = "mean of the valid judge grades on the scale"
    if not values:
        return Metric(name="judge_mean_score", value=None, n=0, formula=formula, reason="no valid judge grade")
    est = np.asarray([v for v, _ in values])
    rates = Rates([i for _, i in values], {}, ctx.boot)
    mean, _ = estimate_mean(est, rates.clusters, seed=ctx.boot.seed, name="judge_mean_score",
                            resamples=ctx.boot.resamples, level=ctx.boot.level)
    return Metric(name="judge_mean_score", formula=formula, ci_method=mean.method,
                  excluded=len(s) - len(values), **mean.model_dump())


@METRICS.register("judge", "judge pass rate, grades, agreement with human grades (kappa), pairwise win rates")
def judge(ctx: MetricContext) -> MetricSet:
    spec = ctx.task.spec.judge
    s = [x for x in ctx.samples if x.judge is not None]
    rates = Rates([x.item_id for x in s], ctx.groups(s), ctx.boot)
    grades = [x.judge.grade for x in s]  # type: ignore[union-attr]
    valid = np.asarray([g is not None for g in grades], dtype=bool)
    everything = np.ones(len(s), dtype=bool)
    dropped = int((~valid).sum())
    passed = np.asarray([x.correct for x in s], dtype=bool)
    metrics = [rates.rate("judge_invalid_rate", "#judge outputs with no readable grade / #samples", ~valid,
                          everything)]
    breakdowns = []
    if spec.pairwise is not None:
        for outcome in ("win", "loss", "tie"):
            hits = np.asarray([g == outcome for g in grades], dtype=bool)
            metrics.append(rates.rate(f"{outcome}_rate", f"#{outcome} / #valid pairs of verdicts (both orders)",
                                      hits, valid, excluded=dropped))
        consistent = np.asarray([bool(x.judge.consistent) for x in s], dtype=bool)  # type: ignore[union-attr]
        metrics.append(rates.rate("position_consistency_rate", "#pairs whose two orders give the same verdict "
                                  "/ #valid pairs", consistent, valid, excluded=dropped))
        return MetricSet(metrics, breakdowns)
    metrics.append(rates.rate("judge_pass_rate", "#passing grades / #valid grades", passed, valid, excluded=dropped))
    breakdowns += rates.breakdowns("judge_pass_rate", passed, valid, higher_is_better=True)
    if spec.scale is not None:
        metrics.append(_score_mean(ctx, s, grades))
    for label in spec.labels or []:
        hits = np.asarray([g == label for g in grades], dtype=bool)
        metrics.append(rates.rate(f"judge_grade_rate/{label}", f"#grade {label} / #valid grades", hits, valid,
                                  excluded=dropped))
    metrics += _agreement(ctx, s, rates, grades)
    return MetricSet(metrics, breakdowns)
