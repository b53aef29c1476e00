"""Paired comparisons: bootstrap difference, McNemar, and aligning two runs."""

import math
from fractions import Fraction

import pytest

from harness.metrics.paired import Comparison, compare_runs, mcnemar, paired_difference
from harness.results.schema import Sample

BOOT = {"seed": 7, "resamples": 500, "level": 0.95}


def binom_two_sided_by_definition(k: int, n: int) -> float:
    """scipy.stats.binomtest's two-sided p: the total probability of outcomes no more likely than k."""
    pmf = [Fraction(math.comb(n, j), 2**n) for j in range(n + 1)]
    return float(min(Fraction(1), sum(p for p in pmf if p <= pmf[k])))


def pairs(b01: int, b10: int, both: int = 0, neither: int = 0) -> tuple[list[bool], list[bool]]:
    a = [False] * b01 + [True] * b10 + [True] * both + [False] * neither
    b = [True] * b01 + [False] * b10 + [True] * both + [False] * neither
    return a, b


# --- McNemar -------------------------------------------------------------------------------------

@pytest.mark.parametrize(("b01", "b10", "p"), [
    (1, 5, 14 / 64),  # 2 (C(6,0) + C(6,1)) / 2^6
    (0, 6, 2 / 64),
    (5, 1, 14 / 64),
    (3, 3, 1.0),
    (0, 0, 1.0),
    (0, 1, 1.0),
])
def test_mcnemar_exact_hand_computed(b01, b10, p):
    r = mcnemar(*pairs(b01, b10, both=4, neither=2))
    assert (r.b01, r.b10) == (b01, b10)
    assert r.p_value == pytest.approx(p)


def test_mcnemar_textbook_presidential_approval():
    # Agresti, Categorical Data Analysis, Table 10.1: approval of the president in two surveys of
    # the same 1,600 people: 794 approve/approve, 150 approve/disapprove, 86 disapprove/approve,
    # 570 disapprove/disapprove. Agresti's (uncorrected) McNemar statistic z² = 17.36.
    a, b = pairs(b01=86, b10=150, both=794, neither=570)
    r = mcnemar(a, b)
    assert (r.b01, r.b10) == (86, 150)
    assert (r.b10 - r.b01) ** 2 / (r.b01 + r.b10) == pytest.approx(17.36, abs=0.005)
    assert r.chi2 == pytest.approx(63**2 / 236)  # continuity-corrected: (|150 - 86| - 1)^2 / 236
    # chi-square with 1 df is z^2: p = 2 (1 - Phi(sqrt(chi2)))
    assert r.chi2_p_value == pytest.approx(2 * (1 - 0.5 * (1 + math.erf(math.sqrt(r.chi2) / math.sqrt(2)))))
    assert 4.0e-5 < r.chi2_p_value < 4.2e-5
    assert r.p_value == pytest.approx(binom_two_sided_by_definition(86, 236), rel=1e-9)
    assert r.p_value < 1e-4


def test_mcnemar_balanced_discordance_has_zero_chi2():
    r = mcnemar(*pairs(10, 10))
    assert r.chi2 == 0.0 and r.chi2_p_value == 1.0 and r.p_value == 1.0


@pytest.mark.parametrize(("b01", "b10"), [(0, 1), (2, 9), (7, 8), (13, 30), (40, 25), (0, 50)])
def test_mcnemar_exact_matches_definition(b01, b10):
    assert mcnemar(*pairs(b01, b10)).p_value == pytest.approx(binom_two_sided_by_definition(b01, b01 + b10),
                                                                 rel=1e-9)


@pytest.mark.parametrize(("b01", "b10"), [(2, 9), (13, 30), (40, 25)])
def test_mcnemar_exact_matches_scipy(b01, b10):
    stats = pytest.importorskip("scipy.stats")
    assert mcnemar(*pairs(b01, b10)).p_value == pytest.approx(stats.binomtest(b01, b01 + b10, 0.5).pvalue)


def test_mcnemar_length_mismatch():
    with pytest.raises(ValueError):
        mcnemar([True], [True, False])


# --- paired bootstrap ----------------------------------------------------------------------------

def constructed(n_items: int = 200) -> tuple[list[float], list[float], list[str]]:
    """a right on the first half of the items; b right on those and on 40 more: b - a = 0.2 exactly."""
    a = [1.0 if i < n_items // 2 else 0.0 for i in range(n_items)]
    b = [1.0 if i < n_items // 2 + 40 else 0.0 for i in range(n_items)]
    return a, b, [f"q{i}" for i in range(n_items)]


def test_paired_difference_contains_true_diff_and_small_p():
    a, b, items = constructed()
    r = paired_difference(a, b, items, **BOOT)
    assert r.diff == pytest.approx(0.2) and r.n == 200 and r.items == 200
    assert r.ci_low <= 0.2 <= r.ci_high and r.ci_low > 0
    assert r.p_value == pytest.approx(1 / 501)  # no null replicate reaches 0.2: the +1 floor
    assert "paired" in r.ci_method and "null-centred" in r.method


def test_paired_difference_direction_is_b_minus_a():
    a, b, items = constructed()
    r = paired_difference(b, a, items, **BOOT)
    assert r.diff == pytest.approx(-0.2) and r.ci_high < 0


def test_paired_difference_no_difference_large_p():
    a, b, items = constructed()
    same = paired_difference(a, a, items, **BOOT)
    assert same.diff == 0.0 and same.p_value == 1.0 and same.ci_low == same.ci_high == 0.0
    # 20 items a right and b wrong, 20 the reverse: same accuracy, noisy pairs
    a2, b2 = pairs(20, 20, both=80, neither=80)
    r = paired_difference([float(x) for x in a2], [float(x) for x in b2], items, **BOOT)
    assert r.diff == 0.0 and r.ci_low < 0 < r.ci_high and r.p_value > 0.5


def test_paired_difference_p_value_is_moderate_for_a_small_noisy_difference():
    a2, b2 = pairs(20, 12, both=80, neither=88)  # diff = 8 / 200
    r = paired_difference([float(x) for x in a2], [float(x) for x in b2], [str(i) for i in range(200)], **BOOT)
    assert r.diff == pytest.approx(0.04)
    assert 0.05 < r.p_value < 0.4  # McNemar exact on (20, 12) gives 0.215
    assert mcnemar(a2, b2).p_value == pytest.approx(0.2153, abs=1e-3)


def test_paired_difference_same_seed_same_ci():
    a2, b2 = pairs(30, 18, both=70, neither=82)
    args = ([float(x) for x in a2], [float(x) for x in b2], [str(i) for i in range(200)])
    r1, r2 = paired_difference(*args, **BOOT), paired_difference(*args, **BOOT)
    assert r1 == r2
    r3 = paired_difference(*args, seed=8, resamples=500, level=0.95)
    assert (r3.ci_low, r3.ci_high, r3.p_value) != (r1.ci_low, r1.ci_high, r1.p_value)


def test_paired_difference_is_clustered_by_item():
    a2, b2 = pairs(30, 18, both=70, neither=82)
    a, b = [float(x) for x in a2], [float(x) for x in b2]
    items = [str(i) for i in range(200)]
    one = paired_difference(a, b, items, **BOOT)
    twice = paired_difference(a * 2, b * 2, items * 2, **BOOT)  # every item seen in two variants
    assert (twice.ci_low, twice.ci_high, twice.p_value) == (one.ci_low, one.ci_high, one.p_value)
    assert twice.n == 400 and twice.items == 200
    independent = paired_difference(a * 2, b * 2, items + [i + "'" for i in items], **BOOT)
    assert independent.ci_high - independent.ci_low < one.ci_high - one.ci_low


def test_paired_difference_bad_input():
    with pytest.raises(ValueError):
        paired_difference([1.0], [1.0, 0.0], ["a", "b"])
    with pytest.raises(ValueError):
        paired_difference([], [], [])


# --- compare_runs --------------------------------------------------------------------------------

def sample(item: str, variant: str, correct: bool, target: str = "A") -> Sample:
    return Sample(item_id=item, variant=variant, groups={}, messages=[], choices=["x", "y"], labels=["A", "B"],
                  target=target, output=None, label_logprobs=None, predicted=target if correct else "B",
                  correct=correct, invalid=False, gold_prob=None, prompt_tokens=1, output_tokens=0,
                  request_key="k")


def test_compare_runs_one_sample_per_item_uses_mcnemar():
    a_c, b_c = pairs(2, 9, both=5, neither=4)
    run_a = [sample(f"q{i}", "original", c) for i, c in enumerate(a_c)]
    run_b = [sample(f"q{i}", "original", c) for i, c in enumerate(b_c)][::-1]  # order does not matter
    cmp, disagree = compare_runs(run_a, run_b, name_a="small", name_b="large", **BOOT)
    assert isinstance(cmp, Comparison)
    assert (cmp.name_a, cmp.name_b, cmp.metric, cmp.n, cmp.items) == ("small", "large", "accuracy", 20, 20)
    assert cmp.value_a == pytest.approx(14 / 20) and cmp.value_b == pytest.approx(7 / 20)
    assert cmp.diff == pytest.approx(-7 / 20) and cmp.ci_low <= cmp.diff <= cmp.ci_high
    assert (cmp.b01, cmp.b10) == (2, 9)
    assert cmp.p_value == pytest.approx(binom_two_sided_by_definition(2, 11)) and "McNemar" in cmp.method
    assert disagree == sorted((f"q{i}", "original") for i in range(11))
    assert Comparison.model_validate_json(cmp.model_dump_json()) == cmp


def test_compare_runs_with_variants_uses_clustered_bootstrap():
    run_a = [sample(f"q{i}", v, i % 2 == 0) for i in range(10) for v in ("original", "typo")]
    run_b = [sample(f"q{i}", v, True) for i in range(10) for v in ("original", "typo")]
    cmp, disagree = compare_runs(run_a, run_b, **BOOT)
    assert cmp.n == 20 and cmp.items == 10 and cmp.diff == pytest.approx(0.5)
    assert (cmp.b01, cmp.b10) == (10, 0) and "bootstrap" in cmp.method
    assert len(disagree) == 10 and ("q1", "typo") in disagree


def test_compare_runs_rejects_different_items():
    run_a = [sample("q1", "original", True), sample("q2", "original", True)]
    run_b = [sample("q1", "original", True), sample("q3", "original", False)]
    with pytest.raises(ValueError, match=r"only in a: q2/original.*only in b: q3/original"):
        compare_runs(run_a, run_b)
    with pytest.raises(ValueError, match="two samples"):
        compare_runs(run_a + run_a[:1], run_a)
    with pytest.raises(ValueError, match="gold answer"):
        compare_runs(run_a, [sample("q1", "original", True, target="B"), run_a[1]])
