"""The built-in metric families, each a thin adapter from `MetricContext` to the metric module that computes it."""

from __future__ import annotations

from harness.config.spec import METRIC_NAMES
from harness.core.plugins import METRICS
from harness.metrics.family import MetricContext, MetricSet
from harness.metrics.groups import accuracy_metrics
from harness.metrics.hallucination import nomiracl_metrics, open_answer_metrics
from harness.metrics.persuasion import Settings, persuasion_metrics
from harness.metrics.robustness import robustness_metrics
from harness.metrics.subgroups import subgroup_metrics, task_classes


@METRICS.register("accuracy", "accuracy, worst-group accuracy and invalid rate on the reference prompts")
def accuracy(ctx: MetricContext) -> MetricSet:
    base = ctx.base
    wanted = [m for m in ctx.task.spec.metrics if m in METRIC_NAMES]
    return ctx.about_reference(accuracy_metrics(
        [s.correct for s in base], [s.invalid for s in base], [s.item_id for s in base], ctx.groups(base),
        wanted=wanted, **ctx.boot.kwargs()))


@METRICS.register("class_accuracy", "per gold class: worst-class, balanced and adjusted accuracy, MacroStd")
def class_accuracy(ctx: MetricContext) -> MetricSet:
    base = ctx.base
    classes, class_key = task_classes(ctx.task, base)  # the gold letter, unless `stats.class_column` names one
    return ctx.about_reference(subgroup_metrics(
        [s.correct for s in base], [s.item_id for s in base], classes, ctx.groups(base),
        class_key=class_key, **ctx.boot.kwargs()))


def _settings(ctx: MetricContext) -> Settings:
    b = ctx.boot
    tau = ctx.task.spec.persuasion.tau if ctx.task.spec.persuasion is not None else 3.0
    return Settings(seed=b.seed, resamples=b.resamples, level=b.level, min_group_size=b.min_group_size, tau=tau)


@METRICS.register("persuasion", "follow rate, accuracy drop, flips, Δp, PARROT's eight states, per arm")
def persuasion(ctx: MetricContext) -> MetricSet:
    metrics, breakdowns, states = persuasion_metrics(
        ctx.samples, list(ctx.task.spec.persuasion.arms), ctx.group_keys, _settings(ctx))
    return MetricSet(metrics, breakdowns, states)


@METRICS.register("robustness", "PDR, flip rate, worst-case accuracy, Cohen's h and spread per perturbation")
def robustness(ctx: MetricContext) -> MetricSet:
    return MetricSet(*robustness_metrics(ctx.samples, ctx.group_keys, _settings(ctx)))


@METRICS.register("open_answer", "correct / incorrect / not attempted, hallucination among attempted")
def open_answer(ctx: MetricContext) -> MetricSet:
    s = ctx.samples
    return MetricSet(*open_answer_metrics([x.predicted or "not_attempted" for x in s], [x.item_id for x in s],
                                          ctx.groups(s), **ctx.boot.kwargs()))


@METRICS.register("nomiracl", "NoMIRACL hallucination, error and invalid rates (both conventions)")
def nomiracl(ctx: MetricContext) -> MetricSet:
    s = ctx.samples
    return MetricSet(*nomiracl_metrics([x.predicted or "invalid" for x in s], [x.target == "answer" for x in s],
                                       [x.item_id for x in s], ctx.groups(s), **ctx.boot.kwargs()))
