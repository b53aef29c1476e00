"""Log-probability arithmetic shared by backends, scorers, metrics and the report (pure math, no model)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence


def logsumexp(values: Sequence[float]) -> float:
    top = max(values)
    return top + math.log(sum(math.exp(v - top) for v in values))


def label_probs(logprobs: Mapping[str, float], tau: float = 1.0) -> dict[str, float]:
    """The option labels' probabilities renormalised over them: p_L ∝ exp(l_L / tau) (tau = 1: a plain softmax)."""
    top = max(logprobs.values())
    weights = {k: math.exp((v - top) / tau) for k, v in logprobs.items()}
    total = sum(weights.values())
    return {k: w / total for k, w in weights.items()}
