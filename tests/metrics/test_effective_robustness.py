"""Effective robustness on synthetic runs: a model on the fitted line has ρ ≈ 0, a model that holds up
better than its clean accuracy predicts has ρ > 0 with a CI above 0, and the ranking statistic is τ_b."""

from __future__ import annotations

import numpy as np
import pytest

from harness.metrics.effective_robustness import effective_robustness, kendall_tau_b, logit, sigmoid


def exact(acc: float, n: int = 200) -> dict[str, float]:
    """n items, the first round(acc · n) right: an accuracy exactly acc."""
    k = round(acc * n)
    return {f"i{j}": float(j < k) for j in range(n)}


def on_line(clean: float, a: float = -0.5, b: float = 1.0) -> float:
    return float(sigmoid(np.array(a + b * logit(np.array(clean), 1e-9))))


def test_models_on_the_line_have_zero_and_a_robust_one_positive():
    cleans = {"m1": 0.9, "m2": 0.8, "m3": 0.7, "m4": 0.6}
    clean = {m: exact(c) for m, c in cleans.items()}
    perturbed = {m: exact(on_line(c)) for m, c in cleans.items()}
    line = effective_robustness(clean, perturbed, clean_label="c", perturbed_label="p", resamples=300)
    assert line.slope == pytest.approx(1.0, abs=0.03) and line.intercept == pytest.approx(-0.5, abs=0.03)
    assert all(abs(p.effective_robustness) < 0.005 for p in line.points)  # rounding to whole items only
    assert line.kendall_tau == 1.0 and line.items_clean == line.items_perturbed == 200
    clean["robust"], perturbed["robust"] = exact(0.75), exact(on_line(0.75) + 0.15)
    fit = effective_robustness(clean, perturbed, clean_label="c", perturbed_label="p", resamples=300)
    robust = next(p for p in fit.points if p.model == "robust")
    assert robust.effective_robustness > 0.08 and robust.ci_low > 0  # type: ignore[operator]
    assert robust.predicted == pytest.approx(robust.perturbed - robust.effective_robustness)
    others = [p for p in fit.points if p.model != "robust"]
    assert all(p.effective_robustness < 0 for p in others)  # the line moved up towards the robust model
    assert all(p.ci_low <= p.effective_robustness <= p.ci_high for p in fit.points)  # type: ignore[operator]


def test_the_fit_is_least_squares_on_logit_axes():
    rng = np.random.default_rng(3)
    clean = {f"m{k}": {f"i{j}": float(rng.random() < 0.3 + 0.1 * k) for j in range(300)} for k in range(6)}
    perturbed = {f"m{k}": {f"i{j}": float(rng.random() < 0.2 + 0.09 * k) for j in range(300)} for k in range(6)}
    fit = effective_robustness(clean, perturbed, clean_label="c", perturbed_label="p", resamples=50)
    x = np.array([np.mean(list(clean[m].values())) for m in sorted(clean)])
    y = np.array([np.mean(list(perturbed[m].values())) for m in sorted(clean)])
    slope, intercept = np.polyfit(np.log(x / (1 - x)), np.log(y / (1 - y)), 1)
    assert fit.slope == pytest.approx(slope) and fit.intercept == pytest.approx(intercept)
    for p, xi, yi in zip(fit.points, x, y):
        predicted = 1 / (1 + np.exp(-(intercept + slope * np.log(xi / (1 - xi)))))
        assert p.effective_robustness == pytest.approx(yi - predicted)


def test_items_in_both_conditions_are_resampled_together_and_only_shared_items_count():
    clean = {m: exact(c, 50) for m, c in (("a", 0.9), ("b", 0.7), ("c", 0.5))}
    perturbed = {m: exact(c, 50) for m, c in (("a", 0.6), ("b", 0.5), ("c", 0.2))}
    del clean["a"]["i0"]  # one model lacks an item: it counts for no model
    fit = effective_robustness(clean, perturbed, clean_label="c", perturbed_label="p", resamples=100, seed=7)
    assert fit.items_clean == 49 and fit.items_perturbed == 50
    again = effective_robustness(clean, perturbed, clean_label="c", perturbed_label="p", resamples=100, seed=7)
    assert again == fit  # seeded


def test_kendall_tau_b_matches_scipy_with_ties():
    stats = pytest.importorskip("scipy.stats")
    x, y = [0.1, 0.4, 0.4, 0.8, 0.9, 0.3], [0.2, 0.1, 0.5, 0.5, 0.9, 0.3]
    assert kendall_tau_b(x, y) == pytest.approx(stats.kendalltau(x, y).statistic)
    assert kendall_tau_b([0.5, 0.5, 0.5], [0.1, 0.2, 0.3]) is None


def test_too_few_models_or_no_spread_is_an_error():
    with pytest.raises(ValueError, match="at least 3 models"):
        effective_robustness({"a": exact(0.5), "b": exact(0.6)}, {"a": exact(0.4), "b": exact(0.5)},
                             clean_label="c", perturbed_label="p")
    same = {m: exact(0.5) for m in "abc"}
    with pytest.raises(ValueError, match="same clean accuracy"):
        effective_robustness(same, {m: exact(0.4) for m in "abc"}, clean_label="c", perturbed_label="p")


def test_accuracies_of_0_and_1_stay_finite():
    clean = {"a": exact(1.0), "b": exact(0.8), "c": exact(0.5)}
    perturbed = {"a": exact(0.0), "b": exact(0.3), "c": exact(0.2)}
    fit = effective_robustness(clean, perturbed, clean_label="c", perturbed_label="p", resamples=50)
    assert np.isfinite(fit.slope) and all(np.isfinite(p.effective_robustness) for p in fit.points)
