"""Variants: the prompts actually asked, made from base items.

A Variant keeps its base item (and so its id and groups) and carries the possibly changed
content. Without persuasion arms every item yields its `original` variant; persuasion arms
(harness/persuasion.py) add pressured twins without touching anything downstream.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict

from harness.data import Item

if TYPE_CHECKING:
    from harness.spec import Task


class Variant(BaseModel):
    model_config = ConfigDict(frozen=True)

    item: Item
    name: str = "original"
    question: str
    choices: list[str]
    labels: list[str]
    target: int
    asserted: int | None = None  # the option a persuasion arm claims is right (index into choices)
    pressure: str = ""  # persuasion sentence, rendered where the prompt template puts {{ pressure }}
    turns: int = 1  # 2: a dialogue; its second user turn is written after the model's first answer
    followup: str | None = None  # that second user turn, once written

    @property
    def id(self) -> str:
        return f"{self.item.id}/{self.name}"

    @property
    def target_label(self) -> str:
        return self.labels[self.target]

    @property
    def asserted_label(self) -> str | None:
        return None if self.asserted is None else self.labels[self.asserted]


def original(item: Item, name: str = "original") -> Variant:
    return Variant(item=item, name=name, question=item.question, choices=item.choices, labels=item.labels,
                   target=item.target)


def make_variants(task: Task, items: list[Item]) -> list[Variant]:
    if task.spec.persuasion is not None:
        from harness.persuasion import build_arms

        return build_arms(task, items)
    return [original(item) for item in items]
