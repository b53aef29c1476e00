"""Macro and micro accuracy of a task group, on hand-computed numbers."""

from math import sqrt

from harness.metrics.aggregate import aggregate
from tests.report.test_build import fake_run


def test_macro_and_micro():
    a, b = fake_run("a", "m", "t1", 0.5), fake_run("b", "m", "t2", 1.0)
    a.metrics[0].n, b.metrics[0].n = 10, 30
    agg = aggregate("g", [a, b])
    assert agg.macro.value == 0.75 and agg.macro.n == 2
    assert agg.micro.value == (5 + 30) / 40 and agg.micro.n == 40
    half = 1.959963984540054 * sqrt(0.25 / 10 + 0) / 2
    assert abs(agg.macro.ci_low - (0.75 - half)) < 1e-9 and agg.macro.ci_high == min(1.0, 0.75 + half)
    assert agg.micro.ci_low < agg.micro.value < agg.micro.ci_high <= 1
    assert "pooled" in agg.micro_formula and "Wilson" in agg.micro_ci_method


def test_tasks_without_accuracy_are_left_out():
    a, b = fake_run("a", "m", "t1", 0.5), fake_run("b", "m", "code", 0.2)
    b.metrics = [m.model_copy(update={"name": "pass@1"}) for m in b.metrics]
    agg = aggregate("g", [a, b])
    assert agg.left_out == ["code"] and [t.task for t in agg.tasks] == ["t1"] and agg.macro.value == 0.5
