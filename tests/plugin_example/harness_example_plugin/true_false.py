"""A task kind: a statement and whether it is true; the model answers "True" or "False"."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import Field

from harness.config.spec import TaskSpec
from harness.config.task import Task
from harness.core.plugins import KINDS
from harness.core.records import Strict
from harness.data.items import MISSING, Item, RowError, common_fields, get_field
from harness.kinds.base import Column, TaskKind
from harness.variants.variant import Variant


class TruthSpec(Strict):
    label: str = Field(description="Column holding true/false (a boolean, or the text 'true'/'false').")


class TrueFalseSpec(TaskSpec):
    type: Literal["true_false"]
    truth: TruthSpec


@KINDS.register("true_false", "a statement; the model answers True or False")
class TrueFalse(TaskKind):
    spec = TrueFalseSpec
    scorer = "multiple_choice"
    metric_families = ("accuracy", "confident_error")
    variant_blocks: ClassVar[frozenset[str]] = frozenset({"perturbations"})

    def columns(self, spec: Any) -> list[Column]:
        return [(spec.truth.label, ("truth", "label"))]

    def candidates(self, task: Task, variant: Variant) -> tuple[str, ...]:
        return tuple(variant.labels)

    def item(self, task: Task, index: int, row: dict[str, Any]) -> Item:
        item_id, statement, groups = common_fields(task, index, row)
        value = get_field(row, task.spec.truth.label)
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            value = value.strip().lower() == "true"
        if value is MISSING or not isinstance(value, bool):
            raise RowError(task.spec.truth.label, "expected true or false")
        return Item(id=item_id, question=statement, choices=["true", "false"], labels=["True", "False"],
                    target=0 if value else 1, groups=groups, row=row)
