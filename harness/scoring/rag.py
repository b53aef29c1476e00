"""Score a retrieval-augmented answer with NoMIRACL's official rule (SPEC.md §2.3).

The item's two outcomes are labels: "answer" (a passage answers the query: the model should say
"Yes, answer is present") and "no_answer" ("I don't know"). An answer the rule cannot read is
invalid: never correct, and counted by `invalid_rate_*`.
"""

from __future__ import annotations

from collections.abc import Callable

from harness.core.plugins import SCORERS
from harness.core.records import Response
from harness.scoring.multiple_choice import SampleScore
from harness.scoring.nomiracl import parse
from harness.variants.variant import Variant


def score_rag(variant: Variant, response: Response) -> SampleScore:
    label = parse(response.text)
    predicted = None if label == "invalid" else label
    return SampleScore(predicted=predicted, correct=predicted == variant.target_label, invalid=predicted is None,
                       gold_prob=None)


@SCORERS.register("nomiracl", "NoMIRACL's official rule: 'Yes, answer is present' / 'I don't know'")
def nomiracl_scorer(task: object) -> Callable[[Variant, Response], SampleScore]:
    return score_rag
