"""`type: behavior`: Anthropic's model-written evaluations and sycophancy sets, as published.

The prompt already holds the options ("(A) Agree (B) Disagree ... Answer:"), so `choices` gives the
labels only; a column names the option that shows the behaviour (`answer_matching_behavior`: " (A)")
and optionally those that do not (`answer_not_matching_behavior`: one label or a list). The options
are scored by their labels' log-probs (continuation log-probs for labels of several tokens, pooled
over "(A)" and " (A)"), or by the label parsed from generated text. Metric family: `behavior_match`.
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
from harness.kinds.multiple_choice import ChoicesSpec, MultipleChoice, TargetSpec, _target_index


class BehaviorColumns(Strict):
    matching: str = Field(description="Column naming the option that shows the behaviour (a label such as ' (A)', "
                                      "or an option text), e.g. answer_matching_behavior.")
    not_matching: str | None = Field(None, description="Column naming the option, or a list of options, that do "
                                                       "not (e.g. answer_not_matching_behavior); default: every other "
                                                       "option.")
    higher_is_better: bool | None = Field(None, description="Whether showing the behaviour is good; None: neither "
                                                            "(group breakdowns then call the highest rate worst).")


class BehaviorSpec(TaskSpec):
    type: Literal["behavior"]
    choices: ChoicesSpec = Field(description="The options; labels only when the prompt writes them.")
    behavior: BehaviorColumns = Field(description="Which option shows the behaviour.")
    target: TargetSpec | None = Field(None, description="The correct answer where there is one (for `accuracy`); "
                                                        "default: the behaviour-matching option.")
    metrics: list[str] = Field(default_factory=lambda: ["behavior_match"],
                               description="Metric families to report; default behavior_match.")


def option_index(value: Any, labels: list[str], choices: list[str], column: str) -> int:
    """The option a behaviour column names: a label (" (A)" is "(A)"), else an option's exact text."""
    try:
        return _target_index(value, "letter", labels, choices)
    except ValueError:
        try:
            return _target_index(value, "text", labels, choices)
        except ValueError:
            raise RowError(column, f"{str(value).strip()!r} is neither one of the labels {labels} nor an option "
                                   "text") from None


@KINDS.register("behavior", "options written in the prompt (Anthropic's model-written evaluations); the rate of "
                            "choosing the option a column names")
class Behavior(MultipleChoice):
    spec = BehaviorSpec
    metric_families: ClassVar[tuple[str, ...]] = ("behavior_match",)

    def target_columns(self, spec: Any) -> list[str]:
        b = spec.behavior
        named = [b.matching] + ([b.not_matching] if b.not_matching else [])
        return named + ([spec.target.field] if spec.target else [])

    def columns(self, spec: Any) -> list[Column]:
        cols: list[Column] = [(spec.target.field, ("target", "field"))] if spec.target else []
        cols += [(name, ("choices", key)) for key in ("field", "block") if (name := getattr(spec.choices, key))]
        cols += [(name, ("choices", "fields", i)) for i, name in enumerate(spec.choices.fields or [])]
        cols.append((spec.behavior.matching, ("behavior", "matching")))
        if spec.behavior.not_matching:
            cols.append((spec.behavior.not_matching, ("behavior", "not_matching")))
        return cols

    def _item(self, task: Task, index: int, row: dict[str, Any], question: str, choices: list[str],
              need: Any) -> Item:
        s = task.spec
        labels, b = list(s.choices.labels), s.behavior
        matching = option_index(need(b.matching), labels, choices, b.matching)
        if b.not_matching:
            named = need(b.not_matching)
            not_matching = [option_index(v, labels, choices, b.not_matching)
                            for v in (named if isinstance(named, list) else [named])]
            if matching in not_matching:
                raise RowError(b.not_matching, f"names the behaviour-matching option {labels[matching]} too")
        else:
            not_matching = [i for i in range(len(labels)) if i != matching]
        target = matching
        if s.target is not None:
            try:
                target = _target_index(need(s.target.field), s.target.format, labels, choices)
            except ValueError as exc:
                raise RowError(s.target.field, str(exc)) from None
        return Item(id=item_id(task, index, row), question=question, choices=choices, labels=labels,
                    target=target, groups=row_groups(task, row), row=row,
                    facts={"matching_option": matching, "not_matching_options": not_matching})
