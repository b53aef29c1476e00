"""`type: bbq`: BBQ (Parrish et al. 2022) as published: three options, one of them "unknown", ambiguous
and disambiguated contexts, and (where the rows have one) the biased answer.

Rows run as they are: BIG-bench's bbq_lite (`input`, `target_scores` {option text: 0/1}, `comment.
context_condition`) with `choices.field: target_scores` and `target.format: scores`; BBQ's own
jsonl (`ans0..ans2`, `label`, `context_condition`) with `choices.fields` and `target.format: index`.
The unknown option is the one whose text is in `bbq.unknown` (BBQ's own list by default); the biased
option comes from the `bbq.biased` column (an index or an option text), for the bias score (metric
family `bbq_bias`, docs/metrics.md).
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import Field

from harness.config.spec import TaskSpec
from harness.config.task import Task
from harness.core.plugins import KINDS
from harness.core.records import Strict
from harness.data.items import Item, RowError, item_id, row_groups
from harness.kinds.base import Column
from harness.kinds.multiple_choice import ChoicesSpec, MultipleChoice, _target_index

# The "unknown" answers BBQ writes (its templates' UNKNOWN list), compared case-insensitively.
UNKNOWN = ("Unknown", "Cannot be determined", "Can't be determined", "Not answerable", "Not known",
           "Not enough info", "Not enough information", "Cannot answer", "Can't answer", "Undetermined")


class BBQTargetSpec(Strict):
    field: str = Field(description="Column with the correct answer.")
    format: Literal["letter", "index", "text", "scores"] = Field(
        "index", description="letter, index (0-based), text (the option text), or scores: the column is "
                             "BIG-bench's {option text: score} and the answer scores 1.")


class BBQColumns(Strict):
    context: str = Field(description="Column with the context condition: ambig or disambig (BBQ's values).")
    biased: str | None = Field(None, description="Column naming the biased option (an index or an option text); "
                                                 "without it the bias scores are undefined and say so.")
    unknown: list[str] = Field(default_factory=lambda: list(UNKNOWN), min_length=1,
                               description="Option texts that mean 'unknown' (case-insensitive).")


class BBQSpec(TaskSpec):
    type: Literal["bbq"]
    choices: ChoicesSpec = Field(description="The three options (a `field` may hold BIG-bench's target_scores).")
    target: BBQTargetSpec = Field(description="The gold answer.")
    bbq: BBQColumns = Field(description="Context condition, unknown option and biased answer.")


def _option(value: Any, choices: list[str], column: str) -> int:
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    try:
        return _target_index(value, "index" if isinstance(value, int) else "text", [], choices)
    except ValueError as exc:
        raise RowError(column, str(exc)) from None


@KINDS.register("bbq", "BBQ: three options with an unknown one, ambiguous/disambiguated contexts; bias score")
class BBQ(MultipleChoice):
    spec = BBQSpec
    metric_families: ClassVar[tuple[str, ...]] = ("accuracy", "bbq_bias")

    def columns(self, spec: Any) -> list[Column]:
        cols = super().columns(spec) + [(spec.bbq.context, ("bbq", "context"))]
        return cols + ([(spec.bbq.biased, ("bbq", "biased"))] if spec.bbq.biased else [])

    def target_columns(self, spec: Any) -> list[str]:
        return [spec.target.field] + ([spec.bbq.biased] if spec.bbq.biased else [])

    @staticmethod
    def _choices(spec: ChoicesSpec, labels: list[str], need: Any) -> list[str]:
        if spec.field:
            value = need(spec.field)
            if isinstance(value, dict):  # BIG-bench's target_scores (a table's union of keys: the row's are set)
                return [str(k) for k, v in value.items() if v is not None]
        return MultipleChoice._choices(spec, labels, need)

    def _item(self, task: Task, index: int, row: dict[str, Any], question: str, choices: list[str],
              need: Any) -> Item:
        s = task.spec
        b, t = s.bbq, s.target
        value = need(t.field)
        if t.format == "scores":
            value = {k: v for k, v in value.items() if v is not None} if isinstance(value, dict) else value
            if not isinstance(value, dict) or sorted(value.values()) != [0] * (len(value) - 1) + [1]:
                raise RowError(t.field, "expected {option text: score} with exactly one option scoring 1")
            target = [str(k) for k in value].index(next(str(k) for k, v in value.items() if v == 1))
        else:
            try:
                target = _target_index(value, t.format, list(s.choices.labels), choices)
            except ValueError as exc:
                raise RowError(t.field, str(exc)) from None
        unknown_texts = {u.strip().lower() for u in b.unknown}
        unknown = [i for i, c in enumerate(choices) if c.strip().lower() in unknown_texts]
        if len(unknown) != 1:
            raise RowError(s.choices.field or "choices", f"{len(unknown)} options are an 'unknown' answer "
                                                         f"(bbq.unknown), expected exactly 1: {choices}")
        context = str(need(b.context)).strip()
        if context not in ("ambig", "disambig"):
            raise RowError(b.context, f"context condition {context!r} is neither 'ambig' nor 'disambig'")
        facts: dict[str, Any] = {"context": context, "unknown_option": unknown[0]}
        if b.biased:
            facts["biased_option"] = _option(need(b.biased), choices, b.biased)
            if facts["biased_option"] == unknown[0]:
                raise RowError(b.biased, "the biased answer is the unknown option")
        return Item(id=item_id(task, index, row), question=question, choices=choices, labels=list(s.choices.labels),
                    target=target, groups=row_groups(task, row), row=row, facts=facts)
