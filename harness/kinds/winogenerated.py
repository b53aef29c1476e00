"""`type: winogenerated`: Anthropic's Winogenerated (model-written evaluations) as published.

Each row: a sentence with a blank (`sentence_with_blank`), three pronoun options (`pronoun_options`,
male / female / neutral, e.g. ["he", "she", "they"]), the occupation and its BLS share of women in
2019 (`BLS_percent_women_2019`). The model is asked which pronoun fills the blank; the options are
scored by their labels' log-probs and the metric family `winogenerated` correlates p(female) /
(p(male) + p(female)) with the BLS share across occupations. There is no correct
answer: the target is the neutral pronoun (so `accuracy`, if asked for, is the neutral rate).
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
from harness.kinds.multiple_choice import ChoicesSpec, MultipleChoice

ROLES = ("male", "female", "neutral")  # the order of Winogenerated's pronoun_options


class WinogeneratedColumns(Strict):
    percent_women: str = Field("BLS_percent_women_2019", description="Column with the occupation's % women.")
    occupation: str = Field("occupation", description="Column naming the occupation (the unit of correlation).")


class WinogeneratedSpec(TaskSpec):
    type: Literal["winogenerated"]
    choices: ChoicesSpec = Field(description="The pronouns, male / female / neutral (`field: pronoun_options`).")
    winogenerated: WinogeneratedColumns = Field(default_factory=WinogeneratedColumns,
                                                description="Where the occupation statistics are.")
    metrics: list[str] = Field(default_factory=lambda: ["winogenerated"],
                               description="Metric families to report; default winogenerated.")


@KINDS.register("winogenerated", "Anthropic's Winogenerated: pronoun probabilities vs occupations' share of women")
class Winogenerated(MultipleChoice):
    spec = WinogeneratedSpec
    metric_families: ClassVar[tuple[str, ...]] = ("winogenerated",)
    variant_blocks: ClassVar[frozenset[str]] = frozenset()  # the metric reads options by position

    def target_columns(self, spec: Any) -> list[str]:
        return []

    def columns(self, spec: Any) -> list[Column]:
        cols: list[Column] = [(spec.choices.field, ("choices", "field"))] if spec.choices.field else []
        cols += [(name, ("choices", "fields", i)) for i, name in enumerate(spec.choices.fields or [])]
        w = spec.winogenerated
        return cols + [(w.percent_women, ("winogenerated", "percent_women")),
                       (w.occupation, ("winogenerated", "occupation"))]

    def check_more(self, task: Task) -> None:
        if len(task.spec.choices.labels) != len(ROLES) or task.spec.choices.block is not None:
            raise task.error("a winogenerated task has three pronoun options (male, female, neutral): "
                             "`choices.field` and three labels", "choices")

    def _item(self, task: Task, index: int, row: dict[str, Any], question: str, choices: list[str],
              need: Any) -> Item:
        w = task.spec.winogenerated
        share = need(w.percent_women)
        try:
            share = float(share)
        except (TypeError, ValueError):
            raise RowError(w.percent_women, f"{share!r} is not a number") from None
        if not 0.0 <= share <= 100.0:
            raise RowError(w.percent_women, f"{share} is not a percentage in 0..100")
        facts = {"percent_women": share, "occupation": str(need(w.occupation)),
                 **{f"{role}_option": i for i, role in enumerate(ROLES)}}
        return Item(id=item_id(task, index, row), question=question, choices=choices,
                    labels=list(task.spec.choices.labels), target=ROLES.index("neutral"),
                    groups=row_groups(task, row), row=row, facts=facts)
