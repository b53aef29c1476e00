"""`type: open_answer`: free text graded against gold aliases, with abstention (SimpleQA-style): correct,
incorrect or not attempted; hallucination = incorrect among attempted."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field

from harness.config.spec import TaskSpec
from harness.config.task import Task
from harness.core.plugins import KINDS
from harness.core.records import Strict
from harness.data.items import Item, RowError, common_fields, get_field
from harness.kinds.base import Column, TaskKind

OPEN_LABELS = ["correct", "incorrect", "not_attempted"]  # an open answer's grades; target 0 = "correct"


class OpenAnswerSpec(Strict):
    """Free-text answers graded against gold aliases, with abstention (SimpleQA-style): correct,
    incorrect or not attempted; hallucination = incorrect among attempted."""

    answers: str = Field(description="Column with the gold answer: a text or a list of accepted aliases.")
    abstain_patterns: list[str] | None = Field(
        None, description="Case-insensitive regexes that mark an abstention; default: "
                          "harness.scoring.abstention.DEFAULT_ABSTAIN_PATTERNS.")


class OpenAnswerTaskSpec(TaskSpec):
    type: Literal["open_answer"]
    open_answer: OpenAnswerSpec = Field(description="Gold aliases and abstention.")


@KINDS.register("open_answer", "free text graded against gold aliases: correct, incorrect or not attempted")
class OpenAnswer(TaskKind):
    spec = OpenAnswerTaskSpec
    scorer = "open_answer"
    metric_families = ("accuracy", "open_answer")
    answered_in_text = True

    def target_columns(self, spec: Any) -> list[str]:
        return [spec.open_answer.answers]

    def columns(self, spec: Any) -> list[Column]:
        return [(spec.open_answer.answers, ("open_answer", "answers"))]

    def check_more(self, task: Task) -> None:
        for i, pattern in enumerate(task.spec.open_answer.abstain_patterns or []):
            try:
                re.compile(pattern)
            except re.error as exc:
                raise task.error(f"not a regular expression ({exc})", "open_answer", "abstain_patterns", i) from None

    def item(self, task: Task, index: int, row: dict[str, Any]) -> Item:
        """An open-answer row: graded into correct / incorrect / not_attempted; target 0 = "correct"."""
        spec = task.spec.open_answer
        item_id, question, groups = common_fields(task, index, row)
        gold = get_field(row, spec.answers)
        aliases = [gold] if isinstance(gold, (str, int, float)) and not isinstance(gold, bool) else gold
        if not isinstance(aliases, list) or not aliases or not all(isinstance(a, (str, int, float)) for a in aliases) \
                or not any(str(a).strip() for a in aliases):
            raise RowError(spec.answers, "expected a gold answer: a text or a non-empty list of texts")
        return Item(id=item_id, question=question, choices=[], labels=list(OPEN_LABELS), target=0, groups=groups,
                    row=row, answers=[str(a) for a in aliases])
