"""Score a multiple-choice answer: from the option log-probs, or from generated text."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from harness.core.errors import HarnessError
from harness.core.logprobs import label_probs
from harness.core.plugins import SCORERS
from harness.core.records import Response
from harness.scoring.execution.sandbox import Execution
from harness.scoring.judge_grades import JudgeRecord
from harness.scoring.parsers import parse_choice
from harness.variants.variant import Variant


class SampleScore(BaseModel):
    model_config = ConfigDict(frozen=True)

    predicted: str | None  # the chosen label; None = invalid (unparseable answer, unusable or tied log-probs)
    correct: bool
    invalid: bool
    gold_prob: float | None  # p(gold) renormalised over the option labels
    tied: tuple[str, ...] = ()  # labels sharing the highest log-prob exactly (then predicted is None)
    execution: Execution | None = None  # code: the program's run against its tests
    judge: JudgeRecord | None = None  # judged tasks: the judge's prompts, outputs and grade


def usable_logprobs(logprobs: dict[str, float] | None) -> bool:
    """Option log-probs that can rank the options: present, none NaN (or +inf), at least one finite.
    -inf alone is a real value (probability 0); NaN, all -inf or +inf mean the forward pass failed."""
    if not logprobs:
        return False
    values = list(logprobs.values())
    return all(not math.isnan(v) and v != math.inf for v in values) and any(math.isfinite(v) for v in values)


def score_multiple_choice(variant: Variant, response: Response,
                          method: Literal["logprobs", "generate"]) -> SampleScore:
    gold = variant.target_label
    lp = response.candidate_logprobs
    probs = label_probs(lp) if usable_logprobs(lp) else None
    if method == "logprobs":
        if not lp:
            raise HarnessError("the backend returned no option log-probs (a server without log-probs?); "
                               "set `answer: generate` in the task file", field="answer")
        # argmax. Unusable log-probs (NaN, all -inf) answer nothing: invalid, never silently the first
        # label. An exact tie at the top (bf16 makes them) answers nothing either: breaking it by label
        # order would favour the earliest label, and so an asserted option that comes first.
        tied = top_labels(lp, variant.labels) if probs else ()
        if len(tied) > 1 and probs:
            return SampleScore(predicted=None, correct=False, invalid=True, gold_prob=probs[gold], tied=tied)
        predicted: str | None = tied[0] if tied else None
    else:
        predicted = parse_choice(response.text, variant.labels)
    return SampleScore(predicted=predicted, correct=predicted == gold, invalid=predicted is None,
                       gold_prob=probs[gold] if probs else None)


def top_labels(logprobs: dict[str, float], labels: list[str]) -> tuple[str, ...]:
    """The labels whose log-prob equals the highest one exactly, in label order (one unless tied)."""
    top = max(logprobs[lab] for lab in labels)
    return tuple(lab for lab in labels if logprobs[lab] == top)


def first_answer_text(response: Response, predicted: str | None, method: Literal["logprobs", "generate"]) -> str:
    """What the model said in a dialogue's first turn: its generated text, or (log-prob scoring,
    where nothing is generated) the label it ranks first (`predicted`; on a tie, the caller passes the
    first tied label), as a greedy decode would begin."""
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
