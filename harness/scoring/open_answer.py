"""Score a free-text answer against its gold aliases: correct, incorrect or not attempted.

The grade is the sample's `predicted` label (the item's target is "correct"); an empty or
abstaining answer is "not_attempted", never invalid. Rules: harness/scoring/abstention.py.
"""

from __future__ import annotations

from collections.abc import Sequence

from harness.backends.base import Response
from harness.scoring.abstention import DEFAULT_ABSTAIN_PATTERNS, classify
from harness.scoring.multiple_choice import SampleScore
from harness.variants.variant import Variant


def score_open_answer(variant: Variant, response: Response, patterns: Sequence[str] | None) -> SampleScore:
    grade = classify(response.text, variant.item.answers, patterns or DEFAULT_ABSTAIN_PATTERNS)
    return SampleScore(predicted=grade, correct=grade == "correct", invalid=False, gold_prob=None)
