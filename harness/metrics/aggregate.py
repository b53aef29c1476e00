"""A task group's aggregate for one model: macro accuracy (the mean of the task scores, each task weighing
the same) and micro accuracy (pooled over the items of every task, each item weighing the same).

A task's score is its headline `accuracy`: the first `accuracy` metric of its results, the clean prompt
(`original` for perturbation tasks, `neutral` for persuasion tasks). Tasks without one (e.g. pass@k code
tasks) are left out and listed.

- micro = sum_t k_t / sum_t n_t, with a Wilson interval on sum_t n_t;
- macro = (1/T) sum_t p_t, with a normal interval on SE = sqrt(sum_t p_t (1 - p_t) / n_t) / T (tasks
  independent, each task's accuracy binomial), clipped to [0, 1].
"""

from __future__ import annotations

import math
from statistics import NormalDist

from pydantic import BaseModel, Field

from harness.metrics.bootstrap import wilson_interval
from harness.results.schema import Estimate, RunResult

MACRO_FORMULA = "(1/T) sum_t accuracy_t over the T tasks with an accuracy"
MICRO_FORMULA = "sum_t correct_t / sum_t n_t, pooled over the items of every task"
MACRO_CI = "{level:.0%} normal interval, SE = sqrt(sum_t p_t(1-p_t)/n_t) / T (tasks independent), clipped to [0, 1]"
MICRO_CI = "{level:.0%} Wilson score interval on the pooled n"


class TaskScore(BaseModel):
    task: str
    run_id: str
    value: float
    n: int


class Aggregate(BaseModel):
    """One model's score on a task group."""

    group: str
    model: str
    backend: str
    macro: Estimate = Field(description=MACRO_FORMULA + " (n: tasks)")
    micro: Estimate = Field(description=MICRO_FORMULA + " (n: items)")
    macro_formula: str = MACRO_FORMULA
    micro_formula: str = MICRO_FORMULA
    macro_ci_method: str
    micro_ci_method: str
    tasks: list[TaskScore]
    left_out: list[str] = Field(default_factory=list, description="tasks of the group without an accuracy")


def headline_accuracy(run: RunResult) -> TaskScore | None:
    """The run's clean-prompt accuracy, or None when it reports none."""
    for m in run.metrics:
        if m.name == "accuracy" and m.value is not None and m.n > 0:
            return TaskScore(task=run.task.name, run_id=run.run_id, value=m.value, n=m.n)
    return None


def aggregate(group: str, runs: list[RunResult], level: float = 0.95) -> Aggregate:
    """The macro and micro accuracy of one model's runs of a group's tasks."""
    scores = [(r, headline_accuracy(r)) for r in runs]
    kept = [s for _, s in scores if s is not None]
    left_out = [r.task.name for r, s in scores if s is None]
    if not kept:
        macro = micro = Estimate(value=None, n=0)
    else:
        t = len(kept)
        p = sum(s.value for s in kept) / t
        se = math.sqrt(sum(s.value * (1 - s.value) / s.n for s in kept)) / t
        z = NormalDist().inv_cdf(0.5 + level / 2)
        macro = Estimate(value=p, ci_low=max(0.0, p - z * se), ci_high=min(1.0, p + z * se), n=t)
        n = sum(s.n for s in kept)
        pooled = sum(s.value * s.n for s in kept) / n
        low, high = wilson_interval(pooled, n, level)
        micro = Estimate(value=pooled, ci_low=low, ci_high=high, n=n)
    first = runs[0].model
    return Aggregate(group=group, model=first.name, backend=first.backend, macro=macro, micro=micro,
                     macro_ci_method=MACRO_CI.format(level=level), micro_ci_method=MICRO_CI.format(level=level),
                     tasks=kept, left_out=left_out)
