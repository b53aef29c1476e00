"""Effective robustness across models (Taori et al. 2020, "Measuring robustness to natural distribution
shifts"; Awadalla et al. 2022 for question answering): how much better a model holds up under a shift than
models of its clean accuracy do.

For M models, each with accuracy c_m on the clean condition and p_m on the perturbed one:
- axes: logit(x) = ln(x / (1 − x)), with x clipped to [ε, 1 − ε], ε = 1 / (2 n) for a condition of n items
  (an accuracy of 0 or 1 stays finite);
- fit: ordinary least squares of logit(p_m) on logit(c_m) over the models: logit(p̂) = a + b · logit(c);
- effective robustness ρ_m = p_m − σ(a + b · logit(c_m)), σ the logistic function: accuracy points above
  (ρ > 0) or below the fit's prediction, on the accuracy axis (not the logit axis);
- CI: seeded percentile bootstrap over items: each replicate draws base items with replacement (one draw
  for every model, so the models stay paired; an item in both conditions is drawn for both), recomputes
  every c_m and p_m, refits a and b and recomputes ρ_m;
- Kendall τ_b between the models' clean and perturbed accuracies (1: the shift keeps the ranking).
Needs at least 3 models (2 points fit exactly) and a spread of clean accuracies.
"""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel, Field

from harness.metrics.bootstrap import DEFAULT_LEVEL, DEFAULT_RESAMPLES, named_rng, percentile_interval

FORMULA = ("ρ = p − σ(a + b·logit(c)), a, b: least squares of logit(perturbed accuracy) on logit(clean accuracy) "
           "across models (accuracies clipped to [1/2n, 1 − 1/2n]); ρ in accuracy points")


class ModelPoint(BaseModel):
    model: str
    clean: float
    perturbed: float
    predicted: float = Field(description="σ(a + b·logit(clean)): the fit's perturbed accuracy")
    effective_robustness: float = Field(description="perturbed − predicted, accuracy (not logit) scale")
    ci_low: float | None
    ci_high: float | None


class EffectiveRobustness(BaseModel):
    clean: str = Field(description="what the clean condition is")
    perturbed: str = Field(description="what the perturbed condition is")
    intercept: float
    slope: float
    kendall_tau: float | None = Field(description="τ_b of the clean and perturbed rankings; None if undefined")
    items_clean: int
    items_perturbed: int
    points: list[ModelPoint]
    formula: str = FORMULA
    ci_method: str


def logit(x: np.ndarray, eps: float) -> np.ndarray:
    x = np.clip(x, eps, 1 - eps)
    return np.log(x / (1 - x))


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-z))


def kendall_tau_b(x: list[float], y: list[float]) -> float | None:
    """Kendall's τ_b = (C − D) / sqrt((n₀ − n₁)(n₀ − n₂)), ties in x (n₁) and y (n₂) corrected."""
    conc = disc = tx = ty = 0
    for i in range(len(x)):
        for j in range(i + 1, len(x)):
            dx, dy = np.sign(x[i] - x[j]), np.sign(y[i] - y[j])
            tx += dx == 0
            ty += dy == 0
            conc += dx * dy > 0
            disc += dx * dy < 0
    pairs = len(x) * (len(x) - 1) // 2
    denom = float(np.sqrt((pairs - tx) * (pairs - ty)))
    return (conc - disc) / denom if denom else None


def _fit(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Least squares per row of x, y (replicates × models): intercepts and slopes (NaN when x is constant)."""
    xm, ym = x.mean(axis=1, keepdims=True), y.mean(axis=1, keepdims=True)
    var = ((x - xm) ** 2).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        slope = np.where(var > 1e-12, ((x - xm) * (y - ym)).sum(axis=1) / np.where(var > 1e-12, var, 1), np.nan)
    return ym[:, 0] - slope * xm[:, 0], slope


def _matrix(values: dict[str, dict[str, float]], models: list[str], items: list[str]) -> np.ndarray:
    return np.array([[values[m].get(i, np.nan) for i in items] for m in models], dtype=float)


def effective_robustness(clean: dict[str, dict[str, float]], perturbed: dict[str, dict[str, float]], *,
                         clean_label: str, perturbed_label: str, seed: int = 0,
                         resamples: int = DEFAULT_RESAMPLES, level: float = DEFAULT_LEVEL) -> EffectiveRobustness:
    """`clean` and `perturbed`: model -> item -> score in [0, 1] (mean over the item's samples). Only
    items every model has count. ValueError with the reason when no fit is possible."""
    models = sorted(set(clean) & set(perturbed))
    if len(models) < 3:
        raise ValueError(f"needs at least 3 models with both conditions, got {len(models)}")
    items_c = sorted(set.intersection(*(set(clean[m]) for m in models)))
    items_p = sorted(set.intersection(*(set(perturbed[m]) for m in models)))
    if not items_c or not items_p:
        raise ValueError("the models share no item in one of the conditions")
    base = sorted(set(items_c) | set(items_p))
    cz, pz = _matrix(clean, models, base), _matrix(perturbed, models, base)
    mask_c, mask_p = (~np.isnan(cz[0])).astype(float), (~np.isnan(pz[0])).astype(float)
    cz, pz = np.nan_to_num(cz), np.nan_to_num(pz)
    eps_c, eps_p = 1 / (2 * len(items_c)), 1 / (2 * len(items_p))
    rng = named_rng(seed, f"effective_robustness/{clean_label}/{perturbed_label}")
    draws = rng.integers(0, len(base), size=(resamples, len(base)))
    weights = np.stack([np.bincount(row, minlength=len(base)) for row in draws]).astype(float)
    weights = np.vstack([np.ones(len(base)), weights])  # row 0: the sample itself
    with np.errstate(invalid="ignore", divide="ignore"):
        acc_c = (weights @ cz.T) / (weights @ mask_c)[:, None]
        acc_p = (weights @ pz.T) / (weights @ mask_p)[:, None]
    a, b = _fit(logit(acc_c, eps_c), logit(acc_p, eps_p))
    if np.isnan(b[0]):
        raise ValueError("every model has the same clean accuracy: no line to fit")
    rho = acc_p - sigmoid(a[:, None] + b[:, None] * logit(acc_c, eps_c))
    points = []
    for k, model in enumerate(models):
        reps = rho[1:, k][~np.isnan(rho[1:, k])]
        low, high = percentile_interval(reps, level) if len(reps) else (None, None)
        points.append(ModelPoint(model=model, clean=float(acc_c[0, k]), perturbed=float(acc_p[0, k]),
                                 predicted=float(acc_p[0, k] - rho[0, k]), effective_robustness=float(rho[0, k]),
                                 ci_low=low, ci_high=high))
    return EffectiveRobustness(
        clean=clean_label, perturbed=perturbed_label, intercept=float(a[0]), slope=float(b[0]),
        kendall_tau=kendall_tau_b(list(acc_c[0]), list(acc_p[0])), items_clean=len(items_c),
        items_perturbed=len(items_p), points=points,
        ci_method=f"{level:.0%} percentile bootstrap, {resamples} resamples of base items (all models together), "
                  f"refitting the line each time, seed {seed}")
