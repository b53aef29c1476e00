"""`type: multiple_choice`: options and a gold letter; answered by the option labels' log-probs or by
generated text parsed for a label."""

from __future__ import annotations

import re
from typing import Any, ClassVar, Literal

from pydantic import Field, model_validator

from harness.config.spec import TaskSpec
from harness.config.task import Task
from harness.core.plugins import KINDS
from harness.core.records import Strict
from harness.data.items import MISSING, Item, RowError, get_field, item_id, row_groups
from harness.kinds.base import Column, TaskKind
from harness.variants.variant import Variant


class ChoicesSpec(Strict):
    """The options: one of `field`, `fields` or `block`; none of them: the options are written in the prompt
    ("(A) Agree (B) Disagree ... Answer:", Anthropic's model-written evaluations) and only `labels` are scored."""

    field: str | None = Field(None, description="A column holding a list of option texts.")
    fields: list[str] | None = Field(None, description="One column per option, in label order.")
    block: str | None = Field(None, description='A column holding an option block "(A)... (B)...".')
    labels: list[str] = Field(default=["A", "B", "C", "D"], min_length=2,
                              description="The option labels the model answers with.")

    @model_validator(mode="after")
    def _exactly_one_source(self) -> ChoicesSpec:
        given = [k for k in ("field", "fields", "block") if getattr(self, k) is not None]
        if len(given) > 1:
            raise ValueError("give at most one of 'field', 'fields' or 'block' (none: the options are in the prompt)")
        if self.fields is not None and len(self.fields) != len(self.labels):
            raise ValueError(f"'fields' has {len(self.fields)} columns but there are {len(self.labels)} labels")
        if len(set(self.labels)) != len(self.labels):
            raise ValueError("labels must be distinct")
        return self


class TargetSpec(Strict):
    field: str = Field(description="Column with the correct answer.")
    format: Literal["letter", "index", "text"] = Field(
        "letter", description="letter: one of the labels; index: 0-based position; text: the option text.")


class MultipleChoiceSpec(TaskSpec):
    type: Literal["multiple_choice"]
    choices: ChoicesSpec = Field(description="The options.")
    target: TargetSpec = Field(description="The gold answer.")


OPTION_STEPS = frozenset({"option_shuffle", "format"})  # perturbations that reorder or relabel the options


def in_prompt(choices: ChoicesSpec) -> bool:
    """Whether the options are written in the prompt (no `field`, `fields` or `block`: labels only)."""
    return choices.field is None and choices.fields is None and choices.block is None


def parse_option_block(text: str, labels: list[str]) -> list[str]:
    """Split '(A)opt one\\n(B)opt two...' into option texts, in label order."""
    starts = []
    pos = 0
    for label in labels:
        m = re.compile(r"\(" + re.escape(label) + r"\)").search(text, pos)
        if m is None:
            raise ValueError(f"option block has no '({label})'")
        starts.append((m.start(), m.end()))
        pos = m.end()
    ends = [s for s, _ in starts[1:]] + [len(text)]
    return [text[b:e].strip() for (_, b), e in zip(starts, ends)]


def _target_index(value: Any, fmt: str, labels: list[str], choices: list[str]) -> int:
    if fmt == "letter":
        letter = str(value).strip()
        if letter not in labels:
            raise ValueError(f"answer '{letter}' is not one of the labels {labels}")
        return labels.index(letter)
    if fmt == "index":
        if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
            value = int(value)  # a CSV cell is text
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < len(choices):
            raise ValueError(f"answer index {value!r} is not in 0..{len(choices) - 1}")
        return value
    text = str(value).strip()
    matches = [i for i, c in enumerate(choices) if c.strip() == text]
    if len(matches) != 1:
        raise ValueError(f"answer text {text!r} matches {len(matches)} options, expected exactly 1")
    return matches[0]


@KINDS.register("multiple_choice", "options and a gold letter; answered by label log-probs or parsed text")
class MultipleChoice(TaskKind):
    spec = MultipleChoiceSpec
    scorer = "multiple_choice"
    metric_families = ("accuracy", "class_accuracy")
    variant_blocks: ClassVar[frozenset[str]] = frozenset({"persuasion", "perturbations"})

    def target_columns(self, spec: Any) -> list[str]:
        return [spec.target.field]

    def columns(self, spec: Any) -> list[Column]:
        cols: list[Column] = [(spec.target.field, ("target", "field"))]
        if spec.choices.field:
            cols.append((spec.choices.field, ("choices", "field")))
        if spec.choices.block:
            cols.append((spec.choices.block, ("choices", "block")))
        cols += [(name, ("choices", "fields", i)) for i, name in enumerate(spec.choices.fields or [])]
        return cols

    def candidates(self, task: Task, variant: Variant) -> tuple[str, ...]:
        return tuple(variant.labels)

    def has_option_texts(self, task: Task) -> bool:
        return in_prompt(task.spec.choices) is False

    def check_more(self, task: Task) -> None:
        """Options written in the prompt cannot be reordered, relabelled or rewritten by a perturbation."""
        if not in_prompt(task.spec.choices) or task.spec.perturbations is None:
            return
        for i, variant in enumerate(task.spec.perturbations.variants):
            for k, step in enumerate(variant.steps):
                if step.kind in OPTION_STEPS or "options" in getattr(step, "on", []):
                    raise task.error(f"perturbation '{step.kind}' changes the options, which this task writes in "
                                     "the prompt (choices has labels only)", "perturbations", "variants", i,
                                     "steps", k, "kind")

    def item(self, task: Task, index: int, row: dict[str, Any]) -> Item:
        s = task.spec
        labels = s.choices.labels

        def need(name: str) -> Any:
            value = get_field(row, name)
            if value is MISSING or value is None:
                raise RowError(name, "value is missing")
            return value

        question = need(s.fields.question)
        if not isinstance(question, str) or not question.strip():
            raise RowError(s.fields.question, "question must be non-empty text")
        if in_prompt(s.choices):  # each label stands for the option the prompt writes after it
            return self._item(task, index, row, question, list(labels), need)
        choices = self._choices(s.choices, labels, need)
        choice_field = s.choices.field or s.choices.block or ",".join(s.choices.fields or [])
        if len(choices) != len(labels):
            raise RowError(choice_field, f"has {len(choices)} options but the task has {len(labels)} labels {labels}")
        if any(not c.strip() for c in choices):
            raise RowError(choice_field, "an option text is empty")
        return self._item(task, index, row, question, choices, need)

    def _item(self, task: Task, index: int, row: dict[str, Any], question: str, choices: list[str],
              need: Any) -> Item:
        s, labels = task.spec, task.spec.choices.labels
        try:
            target = _target_index(need(s.target.field), s.target.format, labels, choices)
        except ValueError as exc:
            raise RowError(s.target.field, str(exc)) from None
        return Item(id=item_id(task, index, row), question=question, choices=choices, labels=list(labels),
                    target=target, groups=row_groups(task, row), row=row)

    @staticmethod
    def _choices(spec: ChoicesSpec, labels: list[str], need: Any) -> list[str]:
        if spec.field:
            choices = need(spec.field)
            if not isinstance(choices, list) or not all(isinstance(c, (str, int, float)) for c in choices):
                raise RowError(spec.field, "expected a list of option texts")
            return [str(c) for c in choices]
        if spec.block:
            try:
                return parse_option_block(str(need(spec.block)), labels)
            except ValueError as exc:
                raise RowError(spec.block, str(exc)) from None
        return [str(need(name)) for name in spec.fields or []]
