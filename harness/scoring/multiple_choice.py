"""Score a multiple-choice answer: from the option log-probs, or from generated text."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from harness.backends.base import Response
from harness.core.errors import HarnessError
from harness.core.plugins import SCORERS
from harness.scoring.execution.sandbox import Execution
from harness.scoring.parsers import parse_choice
from harness.variants.variant import Variant


class SampleScore(BaseModel):
    model_config = ConfigDict(frozen=True)

    predicted: str | None  # the chosen label; None = invalid (unparseable answer)
    correct: bool
    invalid: bool
    gold_prob: float | None  # p(gold) renormalised over the option labels
    execution: Execution | None = None  # code: the program's run against its tests


def label_probs(logprobs: dict[str, float]) -> dict[str, float]:
    top = max(logprobs.values())
    weights = {k: math.exp(v - top) for k, v in logprobs.items()}
    total = sum(weights.values())
    return {k: w / total for k, w in weights.items()}


def score_multiple_choice(variant: Variant, response: Response,
                          method: Literal["logprobs", "generate"]) -> SampleScore:
    gold = variant.target_label
    probs = label_probs(response.candidate_logprobs) if response.candidate_logprobs else None
    if method == "logprobs":
        if not probs:
            raise HarnessError("the backend returned no option log-probs (a server without log-probs?); "
                               "set `answer: generate` in the task file", field="answer")
        # argmax; ties go to the earliest label so the choice is deterministic
        predicted: str | None = max(variant.labels, key=lambda lab: (probs[lab], -variant.labels.index(lab)))
    else:
        predicted = parse_choice(response.text, variant.labels)
    return SampleScore(predicted=predicted, correct=predicted == gold, invalid=predicted is None,
                       gold_prob=probs[gold] if probs else None)


def first_answer_text(response: Response, predicted: str | None, method: Literal["logprobs", "generate"]) -> str:
    """What the model said in a dialogue's first turn: its generated text, or (log-prob scoring,
    where nothing is generated) the label it ranks first (`predicted`), as a greedy decode would begin."""
    if method == "generate":
        return (response.text or "").strip()
    return predicted or ""


ScoreFn = Callable[[Variant, Response], SampleScore]  # what every registered scorer makes for a task


def score_all(score: ScoreFn, pairs: list[tuple[Variant, Response]]) -> list[SampleScore]:
    """Every pair scored: at once when the scorer offers `many(pairs)` (the code scorer runs the programs
    of a whole chunk in parallel), else one by one."""
    many = getattr(score, "many", None)
    return list(many(pairs)) if many is not None else [score(v, r) for v, r in pairs]


@SCORERS.register("multiple_choice", "the option with the highest log-prob, or the label parsed from generated text")
def multiple_choice_scorer(task: Any) -> ScoreFn:
    method = task.spec.answer
    return lambda variant, response: score_multiple_choice(variant, response, method)
