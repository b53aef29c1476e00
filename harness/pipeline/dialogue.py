"""The second wave of a chunk: each dialogue's follow-up, written after the model's own first answer."""

from __future__ import annotations

from harness.backends.base import Request, Response
from harness.config.task import Task
from harness.pipeline.plan import Plan, followup_request
from harness.results.schema import Sample
from harness.scoring.multiple_choice import ScoreFn, first_answer_text
from harness.variants.build import follow_up
from harness.variants.variant import Variant


def second_turns(task: Task, variants: list[Variant], first: Plan, answers: dict[str, Response],
                 dialogues: list[int], seed: int, score_of: ScoreFn) -> tuple[list[Variant | None], list[Request]]:
    """Every variant with its final request: for a dialogue, the follow-up after its first answer. A
    dialogue arm that cannot apply after that answer (`follow_up` gives None) is None: the item is
    skipped for that arm, and the results count it."""
    out: list[Variant | None] = list(variants)
    final = list(first.requests)
    for i in dialogues:
        response = answers[first.requests[i].key]
        score = score_of(variants[i], response)
        first_label = score.predicted or next(iter(score.tied), None)  # a tie: the label a greedy decode writes
        turned = follow_up(task, variants[i], first_label)
        if turned is None:
            out[i] = None
            continue
        reply = first_answer_text(response, first_label, task.spec.answer)
        out[i], final[i] = turned, followup_request(task, turned, first.requests[i], reply, seed)
    return out, final


def skipped_items(task: Task, samples: list[Sample]) -> dict[str, int]:
    """Per persuasion arm, the items with a neutral sample but none of the arm: the arm could not apply."""
    arms = task.spec.persuasion.arms if task.spec.persuasion else []
    neutral = {s.item_id for s in samples if s.variant == "neutral"}
    counts = {arm: len(neutral - {s.item_id for s in samples if s.variant == arm}) for arm in arms if arm != "neutral"}
    return {arm: k for arm, k in counts.items() if k}
