import pytest

from harness.metrics.groups import accuracy_metrics

CORRECT = [True, True, False, True, False, False]
ITEMS = ["1", "2", "3", "4", "5", "6"]
GROUPS = {"domain": ["a", "a", "a", "b", "b", "b"]}
ALL = ["accuracy", "worst_group_accuracy", "invalid_rate"]


def run(min_size=1, **kw):
    return accuracy_metrics(CORRECT, [False, False, True, False, False, False], ITEMS, GROUPS,
                            wanted=kw.get("wanted", ALL), seed=0, resamples=200, level=0.95,
                            min_group_size=min_size)


def by_name(metrics):
    return {m.name: m for m in metrics}


def test_hand_computed_values():
    metrics, (bd,) = run()
    m = by_name(metrics)
    assert m["accuracy"].value == pytest.approx(0.5) and m["accuracy"].n == 6
    assert m["invalid_rate"].value == pytest.approx(1 / 6)
    assert m["worst_group_accuracy"].value == pytest.approx(1 / 3)
    assert m["worst_group_accuracy"].group == "b" and m["worst_group_accuracy"].n == 3
    assert m["worst_group_gap"].value == pytest.approx(0.5 - 1 / 3)
    assert [g.value for g in bd.groups] == pytest.approx([2 / 3, 1 / 3])
    assert (bd.worst, bd.best) == ("b", "a")
    for metric in metrics:
        assert metric.ci_low <= metric.value <= metric.ci_high
        assert metric.formula and metric.ci_method


def test_small_groups_are_flagged_not_crowned():
    metrics, (bd,) = run(min_size=4)
    assert all(g.small for g in bd.groups) and bd.worst is None
    assert by_name(metrics)["worst_group_accuracy"].value is None


def test_same_seed_same_cis():
    a, _ = run()
    b, _ = run()
    assert [m.model_dump() for m in a] == [m.model_dump() for m in b]


def test_only_wanted_metrics():
    metrics, _ = run(wanted=["accuracy"])
    assert [m.name for m in metrics] == ["accuracy"]


def test_proportions_at_the_edges_get_a_wilson_interval_not_a_point():
    """Issue 15 defect 3: 11/11 right gave the interval [1, 1]."""
    n = 11
    metrics, (bd,) = accuracy_metrics([True] * n, [False] * n, [str(i) for i in range(n)], {"domain": ["a"] * n},
                                      wanted=ALL, seed=0, resamples=200, level=0.95, min_group_size=1)
    m = by_name(metrics)
    assert m["accuracy"].value == 1.0 and m["accuracy"].ci_high == 1.0
    assert m["accuracy"].ci_low == pytest.approx(n / (n + 1.959964 ** 2), abs=1e-6)  # about 0.741
    assert "Wilson" in m["accuracy"].ci_method
    assert m["invalid_rate"].value == 0.0 and m["invalid_rate"].ci_high > 0.2  # 0/11: not [0, 0]
    assert bd.groups[0].ci_low < 1.0 and "Wilson" in bd.ci_method
    assert m["worst_group_accuracy"].ci_low < 1.0 and "Wilson" in m["worst_group_accuracy"].ci_method
    assert "bootstrap" in m["worst_group_gap"].ci_method  # a difference keeps its bootstrap interval


def test_undefined_worst_group_says_why():
    metrics, _ = run(min_size=4)
    worst = by_name(metrics)["worst_group_accuracy"]
    assert worst.value is None and "no group of 'domain' has 4+ items" == worst.reason


def test_the_minimum_over_all_groups_is_reported_and_flagged_small():
    """Issue 15 defect 5: small groups could never be worst, so worst-group accuracy (1.0) exceeded
    overall accuracy (0.667), and it was null under fine groupings."""
    correct = [True] * 10 + [False] * 5
    labels = ["big"] * 10 + ["s1", "s1", "s2", "s2", "s3"]
    metrics, (bd,) = accuracy_metrics(correct, [False] * 15, [str(i) for i in range(15)], {"domain": labels},
                                      wanted=ALL, seed=0, resamples=200, level=0.95, min_group_size=10)
    m = by_name(metrics)
    assert m["accuracy"].value == pytest.approx(10 / 15)
    assert m["worst_group_accuracy"].value == 1.0 and m["worst_group_accuracy"].group == "big"
    low = m["min_group_accuracy"]
    assert low.value == 0.0 and low.small is True and low.group == "s1" and low.tied_groups == ["s1", "s2", "s3"]
    assert low.value <= m["accuracy"].value and low.n == 2 and "small groups included" in low.formula
    fine, _ = accuracy_metrics(correct, [False] * 15, [str(i) for i in range(15)],
                               {"domain": [str(i) for i in range(15)]}, wanted=ALL, seed=0, resamples=200,
                               level=0.95, min_group_size=10)
    assert by_name(fine)["worst_group_accuracy"].value is None
    low = by_name(fine)["min_group_accuracy"]
    assert low.value == 0.0 and len(low.tied_groups) == 5 and low.small


def test_tied_worst_groups_are_all_named():
    """Issue 15 defect 5: general_knowledge's 'worst group biology' was one of five tied domains."""
    correct = [True, False, True, False, True, True, True, False]
    labels = ["physics", "physics", "biology", "biology", "history", "history", "art", "art"]
    metrics, (bd,) = accuracy_metrics(correct, [False] * 8, [str(i) for i in range(8)], {"domain": labels},
                                      wanted=ALL, seed=0, resamples=200, level=0.95, min_group_size=1)
    worst = by_name(metrics)["worst_group_accuracy"]
    assert worst.value == 0.5 and worst.tied_groups == ["art", "biology", "physics"]
    assert bd.worst_groups == ["art", "biology", "physics"] and bd.best_groups == ["history"]
    assert by_name(metrics)["worst_group_gap"].tied_groups == ["art", "biology", "physics"]
    alone, _ = accuracy_metrics([True, False], [False] * 2, ["1", "2"], {"domain": ["a", "b"]}, wanted=ALL, seed=0,
                                resamples=50, level=0.95, min_group_size=1)
    assert by_name(alone)["worst_group_accuracy"].tied_groups == []  # one worst group: `group` names it
