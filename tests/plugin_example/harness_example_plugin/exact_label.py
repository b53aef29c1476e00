"""A scorer: the generated text, stripped, must be exactly one of the labels (no parsing, no partial credit)."""

from __future__ import annotations

from typing import Any

from harness.backends.base import Response
from harness.core.plugins import SCORERS
from harness.scoring.multiple_choice import SampleScore, ScoreFn
from harness.variants.variant import Variant


@SCORERS.register("exact_label", "generated text must be exactly one label; anything else is invalid")
def exact_label(task: Any) -> ScoreFn:
    def score(variant: Variant, response: Response) -> SampleScore:
        text = (response.text or "").strip().rstrip(".")
        predicted = text if text in variant.labels else None
        return SampleScore(predicted=predicted, correct=predicted == variant.target_label,
                           invalid=predicted is None, gold_prob=None)

    return score
