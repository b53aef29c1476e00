"""Worst-class, balanced and adjusted accuracy (SPEC.md §4.4) and MacroStd (§9) on hand-computed fixtures."""

import math

import numpy as np
import pytest

from harness.metrics.groups import group_breakdown
from harness.metrics.subgroups import (
    adjusted_accuracy,
    balanced_accuracy,
    gold_classes,
    intersect,
    macro_std,
    strata_breakdown,
    subgroup_metrics,
    worst_class_accuracy,
)
from harness.results.schema import Sample

# item, gold class, group, correct
ROWS = [
    ("1", "A", "x", 1), ("2", "A", "x", 1), ("3", "A", "y", 0), ("4", "A", "y", 1),
    ("5", "B", "x", 0), ("6", "B", "x", 0), ("7", "B", "y", 1), ("8", "B", "y", 0), ("9", "B", "y", 0),
    ("10", "B", "y", 0),
]
ITEMS = [r[0] for r in ROWS]
CLASSES = [r[1] for r in ROWS]
GROUPS = [r[2] for r in ROWS]
CORRECT = [bool(r[3]) for r in ROWS]
BOOT = {"seed": 3, "resamples": 300, "level": 0.95}

# recall_A = 3/4, recall_B = 1/6; accuracy_x = 2/4, accuracy_y = 2/6; overall accuracy = 4/10.
# MacroStd: class A cells x (1, 1) and y (0, 1): a = 1, 0.5, w = 1/2, 1/2, mu = 3/4, sigma = 1/4;
# class B cells x (0, 0) and y (1, 0, 0, 0): a = 0, 1/4, w = 1/3, 2/3, mu = 1/6,
# sigma^2 = 1/3 (1/6)^2 + 2/3 (1/12)^2 = 1/72.
MACRO_STD = (0.25 + math.sqrt(1 / 72)) / 2


def test_worst_class_accuracy_hand_computed():
    m = worst_class_accuracy(CORRECT, ITEMS, CLASSES, class_key="target", **BOOT)
    assert m.name == "worst_class_accuracy"
    assert m.value == pytest.approx(1 / 6) and m.group == "B" and m.n == 6 and m.group_key == "target"
    assert m.ci_low <= m.value <= m.ci_high
    assert "recall_c" in m.formula and "worst class's own interval" in m.ci_method


def test_balanced_accuracy_is_mean_recall_not_accuracy():
    m = balanced_accuracy(CORRECT, ITEMS, CLASSES, **BOOT)
    assert m.value == pytest.approx((3 / 4 + 1 / 6) / 2)
    assert m.value != pytest.approx(sum(CORRECT) / len(CORRECT))
    assert m.n == 10 and m.ci_low <= m.value <= m.ci_high


def test_adjusted_accuracy_is_unweighted_mean_over_groups():
    m = adjusted_accuracy(CORRECT, ITEMS, GROUPS, group_key="domain", **BOOT)
    assert m.value == pytest.approx((2 / 4 + 2 / 6) / 2)
    assert m.value != pytest.approx(0.4)  # the size-weighted mean would be the plain accuracy
    assert m.group_key == "domain" and m.ci_low <= m.value <= m.ci_high


def test_macro_std_hand_computed_size_weighted():
    m = macro_std(CORRECT, ITEMS, CLASSES, GROUPS, class_key="target", subgroup_key="domain", **BOOT)
    assert m.value == pytest.approx(MACRO_STD)
    unweighted = (0.25 + 0.125) / 2  # class B's plain std of (0, 1/4) is 1/8
    assert m.value != pytest.approx(unweighted)
    assert m.ci_low <= m.value <= m.ci_high
    assert m.group_key == "target × domain" and "bias-corrected" in m.ci_method


def test_macro_std_zero_when_subgroups_agree_and_ci_is_not_biased_away():
    # Within each class both subgroups have the same accuracy: sigma_c = 0. Every resampled
    # replicate has sigma > 0 or = 0, so the raw percentile interval would sit above the estimate.
    correct = [True, False, True, False, True, True, True, True]
    items = [str(i) for i in range(8)]
    classes = ["A"] * 4 + ["B"] * 4
    groups = ["x", "x", "y", "y"] * 2
    m = macro_std(correct, items, classes, groups, **BOOT)
    assert m.value == pytest.approx(0.0)
    assert m.ci_low == 0.0 <= m.ci_high


def test_macro_std_interval_is_bias_corrected():
    # 4 classes x 12 subgroups x 3 items, correct with probability 0.4: cells are tiny, so the
    # std of resampled cell accuracies is inflated by resampling noise. Uncorrected, the 95%
    # percentile interval is [0.245, 0.343] around an estimate of 0.205; shifted by the bias it
    # is centred on the estimate.
    rng = np.random.default_rng(0)
    classes = [c for c in "ABCD" for _ in range(36)]
    groups = [f"g{k // 3}" for _ in "ABCD" for k in range(36)]
    items = [f"i{k}" for k in range(144)]
    correct = (rng.random(144) < 0.4).tolist()
    m = macro_std(correct, items, classes, groups, seed=0, resamples=300, level=0.95)
    assert m.value == pytest.approx(0.2055, abs=1e-4)
    assert m.ci_low < m.value < m.ci_high
    assert 0.5 < (m.ci_high - m.value) / (m.value - m.ci_low) < 2


def test_class_in_one_subgroup_counts_with_zero_std():
    m = macro_std([True, False, True], ["1", "2", "3"], ["A", "A", "B"], ["x", "y", "x"], **BOOT)
    assert m.value == pytest.approx((0.5 + 0.0) / 2)


def test_small_classes_flagged_never_crowned():
    rows = ROWS + [("11", "C", "x", 0)]
    args = ([bool(r[3]) for r in rows], [r[0] for r in rows], [r[1] for r in rows])
    assert worst_class_accuracy(*args, min_group_size=1, **BOOT).group == "C"
    assert worst_class_accuracy(*args, min_group_size=2, **BOOT).group == "B"
    none = worst_class_accuracy(*args, min_group_size=100, **BOOT)
    assert none.value is None and none.group is None and none.n == 0
    bd, _ = strata_breakdown(*args, "class", min_group_size=2, **BOOT)
    assert [g.small for g in bd.groups] == [False, False, True] and bd.worst == "B" and bd.best == "A"
    # balanced accuracy averages over every class present, the small one included
    assert balanced_accuracy(*args, **BOOT).value == pytest.approx((3 / 4 + 1 / 6 + 0) / 3)


def test_same_seed_same_ci_other_seed_other_ci():
    a = subgroup_metrics(CORRECT, ITEMS, CLASSES, {"domain": GROUPS}, **BOOT)[0]
    b = subgroup_metrics(CORRECT, ITEMS, CLASSES, {"domain": GROUPS}, **BOOT)[0]
    assert [m.model_dump() for m in a] == [m.model_dump() for m in b]
    _, reps3 = strata_breakdown(CORRECT, ITEMS, CLASSES, "class", **BOOT)
    _, reps4 = strata_breakdown(CORRECT, ITEMS, CLASSES, "class", seed=4, resamples=300, level=0.95)
    assert not np.array_equal(reps3["A"], reps4["A"])


def test_variants_of_one_item_do_not_narrow_the_interval():
    one = balanced_accuracy(CORRECT, ITEMS, CLASSES, **BOOT)
    doubled = balanced_accuracy(CORRECT * 2, ITEMS * 2, CLASSES * 2, **BOOT)
    as_new_items = balanced_accuracy(CORRECT * 2, ITEMS + [i + "'" for i in ITEMS], CLASSES * 2, **BOOT)
    assert (doubled.ci_low, doubled.ci_high) == (one.ci_low, one.ci_high)
    assert as_new_items.ci_high - as_new_items.ci_low < one.ci_high - one.ci_low


def test_class_intervals_match_group_breakdown_seeding():
    bd, _ = strata_breakdown(CORRECT, ITEMS, CLASSES, "target", **BOOT)
    ref, _ = group_breakdown(np.asarray(CORRECT, float), np.asarray(ITEMS), CLASSES, "target", min_group_size=1,
                             proportion=True, **BOOT)
    assert [g.model_dump() for g in bd.groups] == [g.model_dump() for g in ref.groups]


def test_subgroup_metrics_bundle():
    metrics, (bd,) = subgroup_metrics(CORRECT, ITEMS, CLASSES, {"domain": GROUPS}, class_key="target",
                                      min_group_size=1, variant="neutral", **BOOT)
    assert [m.name for m in metrics] == ["worst_class_accuracy", "balanced_accuracy", "adjusted_accuracy",
                                         "macro_std"]
    assert all(m.variant == "neutral" and m.formula and m.ci_method for m in metrics)
    assert [m.value for m in metrics] == pytest.approx([1 / 6, 11 / 24, 5 / 12, MACRO_STD])
    assert bd.key == "target" and [g.value for g in bd.groups] == pytest.approx([3 / 4, 1 / 6])


def test_intersect_and_gold_classes():
    assert intersect(["biology", "law"], ["authority_wrong", "neutral"]) == ["biology × authority_wrong",
                                                                            "law × neutral"]
    with pytest.raises(ValueError):
        intersect(["a"], ["b", "c"])
    s = Sample(item_id="1", variant="v", groups={}, messages=[], choices=["Paris", "Lyon"], labels=["A", "B"],
               target="B", output=None, label_logprobs=None, predicted="B", correct=True, invalid=False,
               gold_prob=None, prompt_tokens=1, output_tokens=0, request_key="k")
    assert gold_classes([s]) == ["B"] and gold_classes([s], by="text") == ["Lyon"]


def test_length_mismatch_raises():
    with pytest.raises(ValueError):
        balanced_accuracy(CORRECT, ITEMS[:-1], CLASSES)


def test_worst_class_at_zero_gets_a_wilson_interval():
    """Issue 15 defect 3: a class never answered right (0/3) had the interval [0, 0]."""
    m = worst_class_accuracy([True, True, True, False, False, False], list("123456"), list("AAABBB"), **BOOT)
    assert m.value == 0.0 and m.group == "B"
    assert m.ci_high == pytest.approx(1.959964 ** 2 / (3 + 1.959964 ** 2), abs=1e-6) and "Wilson" in m.ci_method
