"""Robustness metrics on a hand-computed fixture (SPEC.md §5.2 ReCode, §6.2, §7, §8)."""

import math
import statistics

import pytest

from harness.metrics.persuasion import Settings
from harness.metrics.robustness import robustness_metrics
from harness.results.schema import Sample

CFG = Settings(seed=0, resamples=300, level=0.95, min_group_size=2)
GROUP = {"i0": "g1", "i1": "g1", "i2": "g2", "i3": "g2"}


def sample(item, variant, option, *, perturbation=None, repeat=0):
    """Gold is option 0 of every item; `option` is the item's own option the model chose."""
    return Sample(item_id=item, variant=variant, groups={"domain": GROUP.get(item, "g1")}, messages=[],
                  choices=["w", "x", "y", "z"], labels=["A", "B", "C", "D"], target="A", output=None,
                  label_logprobs=None,
                  predicted=None if option is None else "ABCD"[option], predicted_option=option,
                  perturbation=perturbation, repeat=repeat, correct=option == 0, invalid=option is None,
                  gold_prob=None, prompt_tokens=1, output_tokens=0, request_key="k")


def fixture():
    # original: i0, i1 right; i2 chose option 1, i3 option 2
    s = [sample("i0", "original", 0), sample("i1", "original", 0), sample("i2", "original", 1),
         sample("i3", "original", 2)]
    # typo, two draws: c = [[1,0],[1,1],[1,0],[0,0]]; flips: i0 r1, i2 r0, i3 r1
    for item, draws in {"i0": (0, 1), "i1": (0, 0), "i2": (0, 1), "i3": (2, 3)}.items():
        s += [sample(item, f"typo#{r + 1}", opt, perturbation="typo", repeat=r) for r, opt in enumerate(draws)]
    # shuffle, one draw: c = [0,0,0,1]; flips: i0, i1, i3
    for item, opt in {"i0": 3, "i1": 1, "i2": 1, "i3": 0}.items():
        s.append(sample(item, "shuffle", opt, perturbation="shuffle"))
    return s


def h(p, o):
    return (2 * math.asin(math.sqrt(p)) - 2 * math.asin(math.sqrt(o))) / math.pi


def test_per_perturbation_values():
    metrics, _ = robustness_metrics(fixture(), ["domain"], CFG)
    v = {(m.name, m.variant): m.value for m in metrics}
    assert v[("accuracy", "typo")] == pytest.approx(0.5)
    assert v[("accuracy_drop", "typo")] == pytest.approx(0.0)
    assert v[("performance_drop_rate", "typo")] == pytest.approx(0.0)
    assert v[("flip_rate", "typo")] == pytest.approx(3 / 8)
    assert v[("worst_case_accuracy", "typo")] == pytest.approx(0.25)
    assert v[("cohens_h", "typo")] == pytest.approx(h(0.5, 0.5))  # on the proportions: accuracy 0.5 -> 0.5
    assert v[("accuracy", "shuffle")] == pytest.approx(0.25)
    assert v[("accuracy_drop", "shuffle")] == pytest.approx(0.25)
    assert v[("performance_drop_rate", "shuffle")] == pytest.approx(0.5)
    assert v[("flip_rate", "shuffle")] == pytest.approx(0.75)
    assert v[("worst_case_accuracy", "shuffle")] == pytest.approx(0.25)
    assert v[("cohens_h", "shuffle")] == pytest.approx(h(0.25, 0.5))  # not -0.25 = minus the accuracy drop


def test_over_all_perturbations():
    metrics, _ = robustness_metrics(fixture(), ["domain"], CFG)
    v = {m.name: m for m in metrics if m.variant is None}
    assert v["worst_case_accuracy"].value == 0.0  # every item fails some draw
    # each perturbation weighs equally (PromptBench averages per attack), however many draws it has
    assert v["performance_drop_rate"].value == pytest.approx((0.0 + 0.5) / 2)
    assert v["flip_rate"].value == pytest.approx((3 / 8 + 3 / 4) / 2)
    assert v["cohens_h"].value == pytest.approx((h(0.5, 0.5) + h(0.25, 0.5)) / 2)
    for name in ("performance_drop_rate", "flip_rate", "cohens_h"):
        assert "each perturbation weighing equally" in v[name].formula
    assert v["accuracy_spread"].value == pytest.approx(0.25)
    assert v["accuracy_std"].value == pytest.approx(statistics.stdev([0.5, 0.5, 0.25]))
    assert v["median_accuracy"].value == pytest.approx(0.5)
    assert v["mean_drop"].value == pytest.approx(0.125)
    assert v["worst_perturbation"].group == "shuffle" and v["worst_perturbation"].value == pytest.approx(0.25)


def test_group_breakdowns_mark_the_worst_group():
    _, breakdowns = robustness_metrics(fixture(), ["domain"], CFG)
    drop = next(b for b in breakdowns if b.metric == "accuracy_drop" and b.variant == "shuffle")
    assert {g.group: g.value for g in drop.groups} == {"g1": 1.0, "g2": -0.5}
    assert drop.worst == "g1" and not drop.higher_is_better
    flips = next(b for b in breakdowns if b.metric == "flip_rate" and b.variant == "typo")
    assert {g.group: g.value for g in flips.groups} == {"g1": 0.25, "g2": 0.5} and flips.worst == "g2"


def test_cis_bracket_values_and_repeat_with_the_seed():
    a, _ = robustness_metrics(fixture(), ["domain"], CFG)
    b, _ = robustness_metrics(fixture(), ["domain"], CFG)
    assert [(m.ci_low, m.ci_high) for m in a] == [(m.ci_low, m.ci_high) for m in b]
    for m in a:
        if m.name in ("accuracy_spread", "accuracy_std"):
            assert m.ci_low is None and m.ci_high is None  # see the module docstring
        elif m.ci_low is not None:
            assert m.ci_low <= m.value + 1e-9 and m.value <= m.ci_high + 1e-9, m.name


def test_pdr_is_undefined_when_the_original_is_never_right():
    s = [sample("i0", "original", 1), sample("i1", "original", 2),
         sample("i0", "typo", 0, perturbation="typo"), sample("i1", "typo", 2, perturbation="typo")]
    metrics, _ = robustness_metrics(s, [], CFG)
    pdr = next(m for m in metrics if m.name == "performance_drop_rate")
    assert pdr.value is None and pdr.ci_low is None
    h_metric = next(m for m in metrics if m.name == "cohens_h" and m.variant == "typo")
    assert h_metric.value == pytest.approx((1 + 0) / 2)  # Cohen's h stays defined


def test_invalid_answer_is_a_flip_unless_both_invalid():
    s = [sample("i0", "original", None), sample("i1", "original", 0),
         sample("i0", "p", None, perturbation="p"), sample("i1", "p", None, perturbation="p")]
    metrics, _ = robustness_metrics(s, [], CFG)
    assert next(m for m in metrics if m.name == "flip_rate" and m.variant == "p").value == 0.5


def test_missing_draw_is_an_error():
    s = fixture()[:-1]
    with pytest.raises(ValueError, match="every draw"):
        robustness_metrics(s, ["domain"], CFG)


def test_accuracy_drop_carries_a_paired_test():
    metrics, _ = robustness_metrics(fixture(), ["domain"], CFG)
    drop = {m.variant: m for m in metrics if m.name == "accuracy_drop"}
    # shuffle, one draw: discordant pairs 2 (right -> wrong: i0, i1) and 1 (wrong -> right: i3); exact p = 1
    assert drop["shuffle"].test == "McNemar exact, discordant pairs 1 / 2" and drop["shuffle"].p_value == 1.0
    assert "bootstrap" in drop["typo"].test and drop["typo"].p_value > 0.5  # no drop at all: p near 1


def test_proportions_at_one_are_not_point_intervals():
    """Issue 15 defect 3: a perturbation answered right on every draw of every item."""
    s = []
    for i in range(4):
        s += [sample(f"i{i}", "original", 0)] + [sample(f"i{i}", f"typo#{r}", 0, perturbation="typo", repeat=r)
                                                 for r in range(3)]
    metrics, _ = robustness_metrics(s, [], CFG)
    acc = next(m for m in metrics if m.name == "accuracy" and m.variant == "typo")
    assert acc.value == 1.0 and acc.ci_low == pytest.approx(4 / (4 + 1.959964 ** 2), abs=1e-6)  # K = 4 items
    assert "Wilson" in acc.ci_method and "effective n 4.0 of 12" in acc.ci_method
    flips = next(m for m in metrics if m.name == "flip_rate" and m.variant == "typo")
    assert flips.value == 0.0 and flips.ci_high > 0.3


def test_undefined_pdr_says_why():
    """Issue 15 defect 4: an undefined metric says why (reason), distinct from a computed value."""
    s = [sample("i0", "original", 1), sample("i0", "typo", 0, perturbation="typo")]
    metrics, _ = robustness_metrics(s, [], CFG)
    for m in metrics:
        assert (m.value is None) == (m.reason is not None), m.name
    assert "no original answer is right" in next(m for m in metrics if m.name == "performance_drop_rate").reason


def test_cohens_h_is_on_the_proportions_and_agrees_in_sign_with_the_drop():
    """Issue 15 defect 6: the per-item mean of h read +0.051 where h on the pooled proportions was
    -0.0009 and PDR +0.005; with one draw per item it was exactly minus the accuracy drop."""
    # 11 items, original right on 4. One perturbation, three draws per item, exactly one draw of
    # every item right: accuracy 4/11 -> 1/3, a drop (PDR 1 - (11/3)/4 = 1/12) that h must show
    # as negative, while the per-item mean of h is positive (gains from 0 weigh more in arcsine).
    s = []
    for i in range(11):
        s.append(sample(f"i{i}", "original", 0 if i < 4 else 1))
        s += [sample(f"i{i}", f"p#{r}", 0 if r == 0 else 2, perturbation="p", repeat=r) for r in range(3)]
    metrics, _ = robustness_metrics(s, [], CFG)
    v = {(m.name, m.variant): m.value for m in metrics}
    per_item_mean = (4 * h(1 / 3, 1) + 7 * h(1 / 3, 0)) / 11  # the old aggregation
    assert per_item_mean > 0
    assert v[("performance_drop_rate", "p")] == pytest.approx(1 / 12)
    assert v[("cohens_h", "p")] == pytest.approx(h(1 / 3, 4 / 11)) and v[("cohens_h", "p")] < 0
    m = next(m for m in metrics if m.name == "cohens_h" and m.variant == "p")
    assert m.ci_low <= m.value <= m.ci_high


def test_recode_robust_drop_and_relative_from_per_item_values():
    """Issue 15 defect 8: ReCode's Robust Drop_s and Robust Relative_s (SPEC.md §5.2), as functions
    of per-item values that a pass@k estimator can feed (greedy: 0/1 outcomes)."""
    from harness.metrics.robustness import greedy_changes, robust_drop, robust_relative

    nominal = [1, 1, 0, 0]
    draws = [[1, 0], [1, 1], [1, 0], [0, 0]]
    assert robust_drop(nominal, [min(d) for d in draws]) == pytest.approx((0.5 - 0.25) / 0.5)
    to_fail, to_pass = greedy_changes(nominal, draws)
    assert to_fail.tolist() == [1, 0, 0, 0] and to_pass.tolist() == [0, 0, 1, 0]
    assert robust_relative(to_fail, to_pass) == pytest.approx(0.5)
    assert robust_drop([0, 0], [0, 0]) is None  # Pass@k = 0: no drop relative to nothing
    # sampling form: per-item pass@k estimates in, the same formulas
    assert robust_drop([0.9, 0.5], [0.6, 0.2]) == pytest.approx((0.7 - 0.4) / 0.7)
    assert robust_relative([0.3, 0.0], [0.0, 0.1]) == pytest.approx(0.2)


def test_recode_metrics_per_perturbation_and_overall():
    metrics, _ = robustness_metrics(fixture(), ["domain"], CFG)
    v = {(m.name, m.variant): m for m in metrics}
    assert v[("robust_drop", "typo")].value == pytest.approx(0.5)
    assert v[("robust_relative", "typo")].value == pytest.approx(0.5)
    assert v[("robust_drop", "shuffle")].value == pytest.approx(0.5)
    assert v[("robust_relative", "shuffle")].value == pytest.approx(0.75)
    assert v[("robust_drop", None)].value == pytest.approx(1.0)  # every item fails some draw
    assert v[("robust_relative", None)].value == pytest.approx(1.0)
    assert "Wilson" in v[("robust_relative", "typo")].ci_method
    assert "ReCode" in v[("robust_drop", "typo")].formula
