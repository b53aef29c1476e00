"""A judge's output read as a grade, and what a sample keeps of its judging.

- scale [low, high]: the first number in the output (integer or decimal) that lies inside the scale;
  none: invalid.
- labels: the label (whole word, any case) that occurs earliest in the output; none: invalid.
- pairwise (asked twice, the answers swapped): "A", "B" or "tie" per order; the subject wins only when
  both orders prefer it (A first, then B), loses only when both prefer the other; any other pair of
  verdicts (a position preference, a tie) is a tie. Either order unreadable: invalid.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict

from harness.config.judge import JudgeSpec
from harness.core.records import Message, Response

_NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?")


class JudgeCall(BaseModel):
    """One request to the judge: its prompt, its raw output and the grade read from it."""

    model_config = ConfigDict(frozen=True)

    order: Literal["single", "subject_first", "subject_second"] = "single"
    messages: list[Message]
    output: str | None
    grade: str | None  # None: the output could not be read as a grade (invalid)


class JudgeRecord(BaseModel):
    """What a sample keeps of its judging (samples.jsonl, the report's explorer)."""

    model_config = ConfigDict(frozen=True)

    calls: list[JudgeCall]
    grade: str | None  # the final grade (pairwise: win, loss or tie); None: invalid
    human: str | None = None  # the human grade from `judge.human`, when the task has one
    consistent: bool | None = None  # pairwise: both orders gave the same verdict about the same answer


class Judged(Response):
    """A subject's response with its judge calls attached, as the judge wave hands it to the scorer."""

    judge_calls: tuple[JudgeCall, ...] = ()


def format_grade(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def parse_scale(text: str | None, low: float, high: float) -> str | None:
    for m in _NUMBER.finditer(text or ""):
        value = float(m.group())
        if low <= value <= high:
            return format_grade(value)
    return None


def parse_label(text: str | None, labels: list[str]) -> str | None:
    best: tuple[int, str] | None = None
    for label in labels:
        m = re.search(rf"(?<!\w){re.escape(label)}(?!\w)", text or "", flags=re.IGNORECASE)
        if m and (best is None or m.start() < best[0]):
            best = (m.start(), label)
    return best[1] if best else None


def parse_grade(text: str | None, spec: JudgeSpec) -> str | None:
    if spec.scale is not None:
        return parse_scale(text, *spec.scale)
    return parse_label(text, spec.grades)


def pairwise_outcome(first: str | None, second: str | None) -> tuple[str | None, bool | None]:
    """(outcome for the subject, position-consistent) from the verdicts with the subject as A, then as B."""
    if first is None or second is None:
        return None, None
    if first == "A" and second == "B":
        return "win", True
    if first == "B" and second == "A":
        return "loss", True
    return "tie", first == second == "tie"
