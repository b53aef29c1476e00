"""`type: judged`: free-text answers graded by a judge model with the task's rubric (`judge:` block).

Each item's grades are the judge's (a number on `judge.scale`, a label from `judge.labels`, or a pairwise
win / loss / tie); the sample's `correct` is whether the grade passes (harness/config/judge.py).
"""

from __future__ import annotations

from typing import Any, Literal

from harness.config.spec import TaskSpec
from harness.config.task import Task
from harness.core.plugins import KINDS
from harness.data.items import Item, common_fields
from harness.kinds.base import TaskKind

JUDGED_LABELS = ["pass", "fail"]  # the sample's target is a pass; the grade itself is `predicted`


class JudgedTaskSpec(TaskSpec):
    type: Literal["judged"]


@KINDS.register("judged", "free text graded by a judge model with a rubric (`judge:` block)")
class Judged(TaskKind):
    spec = JudgedTaskSpec
    scorer = "judge"
    metric_families = ("judge",)
    answered_in_text = True
    variant_blocks = frozenset({"perturbations"})

    def target_columns(self, spec: Any) -> list[str]:
        return [spec.judge.human] if spec.judge is not None and spec.judge.human else []

    def check_more(self, task: Task) -> None:
        if task.spec.judge is None:
            raise task.error("a judged task needs a `judge:` block (its template and grades)", "judge")
        if task.spec.scorer not in (None, "judge"):
            raise task.error("a judged task is scored by its judge: leave out `scorer` or set it to judge", "scorer")

    def item(self, task: Task, index: int, row: dict[str, Any]) -> Item:
        item_id, question, groups = common_fields(task, index, row)
        return Item(id=item_id, question=question, choices=[], labels=list(JUDGED_LABELS), target=0, groups=groups,
                    row=row)
