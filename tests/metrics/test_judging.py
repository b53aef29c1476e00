"""Cohen's kappa and its bootstrap interval."""

import pytest

from harness.metrics.family import BootstrapConfig, MetricContext
from harness.metrics.judging import cohen_kappa, kappa_metric


def wikipedia_example():
    # Cohen's kappa, Wikipedia's worked example: 20 yes/yes, 5 yes/no, 10 no/yes, 15 no/no -> kappa = 0.4
    a = ["yes"] * 25 + ["no"] * 25
    b = ["yes"] * 20 + ["no"] * 5 + ["yes"] * 10 + ["no"] * 15
    return a, b


def test_kappa_of_the_worked_example():
    a, b = wikipedia_example()
    assert cohen_kappa(a, b) == pytest.approx(0.4)


def test_kappa_extremes():
    assert cohen_kappa(["x", "y", "x"], ["x", "y", "x"]) == 1.0
    assert cohen_kappa(["x", "x"], ["x", "x"]) is None  # one category: chance agreement is 1
    assert cohen_kappa([], []) is None
    assert cohen_kappa(["x", "y"], ["y", "x"]) == pytest.approx(-1.0)


def test_kappa_interval_is_a_seeded_bootstrap_over_items():
    a, b = wikipedia_example()
    ctx = MetricContext(task=None, samples=[], boot=BootstrapConfig(seed=3, resamples=300))
    items = [str(i) for i in range(50)]
    m = kappa_metric(a, b, items, ctx)
    again = kappa_metric(a, b, items, ctx)
    assert m.value == pytest.approx(0.4) and m.n == 50 and m.ci_low < 0.4 < m.ci_high
    assert (m.ci_low, m.ci_high) == (again.ci_low, again.ci_high)
    assert "300 resamples, seed 3" in m.ci_method
