"""Score a free-text answer against its gold aliases: correct, incorrect or not attempted.

The grade is the sample's `predicted` label (the item's target is "correct"); an empty or
abstaining answer is "not_attempted", never invalid. Rules: harness/scoring/abstention.py.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from harness.core.plugins import SCORERS
from harness.core.records import Response
from harness.scoring.abstention import DEFAULT_ABSTAIN_PATTERNS, classify
from harness.scoring.multiple_choice import SampleScore
from harness.variants.variant import Variant


def score_open_answer(variant: Variant, response: Response, patterns: Sequence[str] | None) -> SampleScore:
    grade = classify(response.text, variant.item.answers, patterns or DEFAULT_ABSTAIN_PATTERNS)
    return SampleScore(predicted=grade, correct=grade == "correct", invalid=False, gold_prob=None)


@SCORERS.register("open_answer", "free text against gold aliases: correct, incorrect or not attempted (abstention)")
def open_answer_scorer(task: Any) -> Callable[[Variant, Response], SampleScore]:
    patterns = task.spec.open_answer.abstain_patterns
    return lambda variant, response: score_open_answer(variant, response, patterns)
