"""pass@k and ReCode's robust metrics against hand counts and brute-force combinatorics (SPEC.md §5.2)."""

from __future__ import annotations

import itertools
from math import comb

import numpy as np
import pytest

from harness.metrics.passk import CodeOutcomes, pass_at_k, passk_metrics
from harness.metrics.persuasion import Settings

CFG = Settings(seed=0, resamples=200, level=0.95, min_group_size=1)


def _get(metrics, name, variant=None, group=None):
    found = [m for m in metrics if m.name == name and m.variant == variant and m.group == group]
    assert len(found) == 1, (name, variant, group, found)
    return found[0]


@pytest.mark.parametrize("n", [1, 2, 5, 10, 20])
def test_estimator_is_one_minus_the_share_of_k_subsets_that_all_fail(n):
    for c in range(n + 1):
        for k in range(1, n + 1):
            exact = 1 - comb(n - c, k) / comb(n, k)
            assert pass_at_k(n, c, k) == pytest.approx(exact, abs=1e-12)
    assert pass_at_k(n, np.arange(n + 1), 1) == pytest.approx(np.arange(n + 1) / n)


def test_estimator_matches_enumerating_every_k_subset():
    passes = [1, 0, 0, 1, 0, 0, 0]  # n = 7, c = 2
    for k in (1, 2, 3):
        subsets = list(itertools.combinations(passes, k))
        assert pass_at_k(7, 2, k) == pytest.approx(sum(any(s) for s in subsets) / len(subsets))


def test_estimator_refuses_k_above_n_and_impossible_counts():
    with pytest.raises(ValueError, match="1 <= k <= n"):
        pass_at_k(5, 2, 6)
    with pytest.raises(ValueError, match=r"\[0, n = 5\]"):
        pass_at_k(5, 6, 1)


def _greedy(nominal, *perturbations, groups=None, verdicts=None, categories=None):
    return CodeOutcomes(items=[f"x{i}" for i in range(len(nominal))],
                        nominal=np.asarray(nominal, bool)[:, None],
                        perturbed={name: np.asarray(draws, bool)[:, :, None] for name, draws in perturbations},
                        perturbation_groups=categories or {}, verdicts=verdicts or {}, groups=groups or {})


def test_greedy_robust_metrics_are_worst_and_best_cases_over_draws():
    nominal = [1, 1, 0, 0, 1]
    # two draws of one perturbation per item
    draws = [[1, 1], [1, 0], [0, 1], [0, 0], [0, 0]]
    metrics, _ = passk_metrics(_greedy(nominal, ("typo", draws)), [1], CFG)
    assert _get(metrics, "pass@1", "original").value == pytest.approx(3 / 5)
    assert _get(metrics, "pass@1", "typo").value == pytest.approx(np.mean(draws))
    rp = _get(metrics, "robust_pass@1", "typo")
    assert rp.value == pytest.approx(1 / 5)  # only x0 passes both draws
    assert _get(metrics, "robust_drop@1", "typo").value == pytest.approx((3 / 5 - 1 / 5) / (3 / 5))
    # RR: x1 (nominal pass, a draw fails), x4 (pass, all fail), x2 (fail, a draw passes) -> 3 of 5
    assert _get(metrics, "robust_relative@1", "typo").value == pytest.approx(3 / 5)
    assert rp.ci_low <= rp.value <= rp.ci_high and rp.n == 5 and "RP_s@k" in rp.formula


def test_overall_and_group_scopes_take_the_worst_case_over_their_perturbations():
    nominal = [1, 1, 1, 0]
    typo = [[1], [0], [1], [0]]
    case = [[1], [1], [0], [1]]
    rename = [[1], [1], [1], [0]]
    out = _greedy(nominal, ("typo", typo), ("case", case), ("rename", rename),
                  categories={"typo": "docstring", "case": "docstring", "rename": "function_name"})
    metrics, _ = passk_metrics(out, [1], CFG)
    assert _get(metrics, "robust_pass@1", group="docstring").value == pytest.approx(1 / 4)  # x0 only
    assert _get(metrics, "robust_pass@1").value == pytest.approx(1 / 4)
    # RR over all: x1, x2 lose a draw; x3 fails nominally and passes `case` -> 3 of 4
    assert _get(metrics, "robust_relative@1").value == pytest.approx(3 / 4)
    single = [m for m in metrics if m.group == "function_name"]
    assert not single  # a group of one perturbation repeats that perturbation's row: not reported twice


def test_sampled_robust_pass_aligns_samples_by_index_across_draws():
    # one item, n = 4 samples; sample i passes nominally / on draw 0 / on draw 1
    nominal = np.array([[1, 1, 0, 1]], bool)
    draws = np.array([[[1, 0, 1, 1], [1, 1, 0, 0]]], bool)  # samples passing both draws: {0}
    out = CodeOutcomes(items=["x"], nominal=nominal, perturbed={"p": draws})
    metrics, _ = passk_metrics(out, [1, 2], CFG)
    assert _get(metrics, "robust_pass@1", "p").value == pytest.approx(1 / 4)
    assert _get(metrics, "robust_pass@2", "p").value == pytest.approx(1 - comb(3, 2) / comb(4, 2))
    # rc- = samples passing nominally and failing a draw = {1, 3}; rc+ = failing nominally, passing a draw = {2}
    expected = (1 - comb(2, 2) / comb(4, 2)) + (1 - comb(3, 2) / comb(4, 2))
    assert _get(metrics, "robust_relative@2", "p").value == pytest.approx(expected)
    assert _get(metrics, "pass@2", "original").value == pytest.approx(1.0)  # 3 of 4 pass: any pair has one
    assert not [m for m in metrics if m.name.endswith("@10")]  # k > n is not reported


def test_drop_is_undefined_without_nominal_passes_and_verdicts_are_counted_separately():
    verdicts = {"original": np.array([["failed"], ["timeout"], ["syntax_error"], ["timeout"]])[:, None, :]}
    out = _greedy([0, 0, 0, 0], ("p", [[1], [0], [0], [0]]), verdicts=verdicts)
    metrics, _ = passk_metrics(out, [1], CFG)
    drop = _get(metrics, "robust_drop@1", "p")
    assert drop.value is None and drop.ci_low is None
    assert _get(metrics, "timeout_rate", "original").value == pytest.approx(0.5)
    assert _get(metrics, "syntax_error_rate", "original").value == pytest.approx(0.25)
    assert _get(metrics, "crashed_rate", "original").value == 0.0


def test_item_groups_get_breakdowns_of_pass_and_robust_pass():
    out = _greedy([1, 1, 0, 0], ("p", [[1], [0], [0], [0]]), groups={"level": ["easy", "easy", "hard", "hard"]})
    _, breakdowns = passk_metrics(out, [1], CFG)
    nominal = next(b for b in breakdowns if b.metric == "pass@1" and b.variant == "original")
    assert {g.group: g.value for g in nominal.groups} == {"easy": 1.0, "hard": 0.0}
    assert nominal.worst == "hard"
    robust = next(b for b in breakdowns if b.metric == "robust_pass@1" and b.variant == "p")
    assert {g.group: g.value for g in robust.groups} == {"easy": 0.5, "hard": 0.0}


def test_misaligned_samples_are_refused():
    with pytest.raises(ValueError, match="does not hold n = 2 samples"):
        CodeOutcomes(items=["x"], nominal=np.ones((1, 2), bool), perturbed={"p": np.ones((1, 1, 3), bool)})


def test_partial_code_perturbations_are_compared_with_their_own_nominal():
    out = CodeOutcomes(
        items=["x0", "x1"], nominal=np.array([[1], [1]], bool),
        baselines={"original_partial": np.array([[0], [1]], bool)},
        perturbed={"tab_indent": np.array([[[1]], [[0]]], bool), "typo": np.array([[[1]], [[1]]], bool)},
        baseline_of={"tab_indent": "original_partial"})
    metrics, _ = passk_metrics(out, [1], CFG)
    assert _get(metrics, "pass@1", "original_partial").value == 0.5
    # against original_partial: x0 fails nominally and passes (rc+), x1 passes and fails (rc-)
    assert _get(metrics, "robust_relative@1", "tab_indent").value == 1.0
    assert _get(metrics, "robust_drop@1", "tab_indent").value == 0.0  # RP = pass@1 = 0.5, items differ
    assert "against original_partial" in _get(metrics, "robust_drop@1", "tab_indent").formula
    assert _get(metrics, "robust_pass@1").value == 0.5  # overall: x0 passes both perturbations
    assert not [m for m in metrics if m.name == "robust_drop@1" and m.variant is None]  # no common nominal
    with pytest.raises(ValueError, match="unknown nominal prompts"):
        CodeOutcomes(items=["x"], nominal=np.ones((1, 1), bool), baseline_of={"p": "nope"})
