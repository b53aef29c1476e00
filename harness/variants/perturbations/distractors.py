"""Distractor perturbations: append text that carries no information about the answer.

PromptBench's sentence-level attacks (SPEC §7.2): StressTest appends "and true is true" five times
(or "and false is not true"), CheckList appends random 10-character alphanumeric strings. An
irrelevant sentence is FLUKE/GSM-style distraction (SPEC §7.1). The original text stays a prefix.
"""

from __future__ import annotations

import random
import string
from typing import Annotated, Literal

from pydantic import Field as Constraint

from harness.variants.perturbations.base import Params, text_perturbation

PHRASES = {"true_is_true": "and true is true", "false_is_not_true": "and false is not true"}

# Bland, topic-free sentences: no digits, names, places, dates or facts a quiz could ask about.
IRRELEVANT_SENTENCES = (
    "The weather was mild that afternoon.",
    "Someone left a cup of tea on the table.",
    "The hallway smelled faintly of fresh paint.",
    "A bird was singing somewhere outside.",
    "The lights in the room were slightly dim.",
    "Nobody had opened the window all morning.",
    "The chair in the corner creaked a little.",
    "A gentle breeze moved the curtains.",
    "The notebook on the desk was half empty.",
    "It had been a quiet and ordinary day.",
    "The kettle clicked off in the kitchen.",
    "A few leaves had fallen onto the path.",
    "The clock on the wall ticked softly.",
    "Somebody was humming a tune in the next room.",
    "The carpet had recently been vacuumed.",
    "A pencil rolled off the edge of the table.",
    "The sky looked a little cloudy.",
    "The door closed quietly behind them.",
    "There was a faint sound of traffic far away.",
    "The bookshelf was neatly arranged.",
)


class StressTestParams(Params):
    kind: Literal["stress_test"] = "stress_test"
    phrase: Literal["true_is_true", "false_is_not_true"] = "true_is_true"
    repeat: Annotated[int, Constraint(ge=1, le=50)] = 5

    def uses_rng(self) -> bool:
        return False


@text_perturbation("stress_test", StressTestParams, randomized=False)
def stress_test(text: str, p: StressTestParams, rng: random.Random) -> str:
    """Append " and true is true" `repeat` times (PromptBench StressTest)."""
    return text + f" {PHRASES[p.phrase]}" * p.repeat


class ChecklistParams(Params):
    kind: Literal["checklist"] = "checklist"
    length: Annotated[int, Constraint(ge=1, le=100)] = 10
    count: Annotated[int, Constraint(ge=1, le=20)] = 1


_ALPHANUMERIC = string.ascii_letters + string.digits


@text_perturbation("checklist", ChecklistParams)
def checklist(text: str, p: ChecklistParams, rng: random.Random) -> str:
    """Append `count` random alphanumeric strings of `length` characters (PromptBench CheckList)."""
    noise = (" ".join("".join(rng.choice(_ALPHANUMERIC) for _ in range(p.length)) for _ in range(p.count)))
    return f"{text} {noise}"


class IrrelevantSentenceParams(Params):
    kind: Literal["irrelevant_sentence"] = "irrelevant_sentence"


@text_perturbation("irrelevant_sentence", IrrelevantSentenceParams)
def irrelevant_sentence(text: str, p: IrrelevantSentenceParams, rng: random.Random) -> str:
    """Append one bland sentence drawn from a built-in, topic-free list (irrelevant context)."""
    return f"{text} {rng.choice(IRRELEVANT_SENTENCES)}"
