"""A metric family: the share of answers that are wrong although the model put at least half its
probability on the option it chose (confidently wrong), with a bootstrap CI over items."""

from __future__ import annotations

import math

import numpy as np

from harness.core.plugins import METRICS
from harness.metrics.bootstrap import mean_ci
from harness.metrics.family import MetricContext, MetricSet
from harness.metrics.info import MetricInfo, declare
from harness.results.schema import Metric

declare(MetricInfo(name="confident_error_rate", display="confident errors", unit="rate", higher_is_better=False,
                   description="wrong with p(chosen option) >= 0.5"))


@METRICS.register("confident_error", "share of answers wrong with p(chosen) >= 0.5")
def confident_error(ctx: MetricContext) -> MetricSet:
    rows = [s for s in ctx.base if s.label_logprobs and s.predicted in s.label_logprobs]
    values = []
    for s in rows:
        top = max(s.label_logprobs.values())
        total = sum(math.exp(v - top) for v in s.label_logprobs.values())
        values.append(float(not s.correct and math.exp(s.label_logprobs[s.predicted] - top) / total >= 0.5))
    formula = "mean over samples of [wrong and p(chosen) >= 0.5], p renormalised over the option labels"
    if not values:
        return MetricSet([Metric(name="confident_error_rate", value=None, n=0, formula=formula + " (no log-probs)")],
                         [])
    b = ctx.boot
    low, high = mean_ci(np.asarray(values), np.asarray([s.item_id for s in rows]), seed=b.seed,
                        resamples=b.resamples, level=b.level)
    value = float(np.mean(values))
    ci = f"{b.level:.0%} percentile bootstrap, {b.resamples} resamples, seed {b.seed}, resampling base items"
    return MetricSet([Metric(name="confident_error_rate", value=value, ci_low=low, ci_high=high, n=len(values),
                             formula=formula, ci_method=ci)], [])
