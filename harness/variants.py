"""Variants: the prompts actually asked, made from base items.

A Variant keeps its base item (and so its id and groups) and carries the possibly changed
content. Today every item yields its `original` variant; perturbations and persuasion arms add
variants without touching anything downstream.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from harness.data import Item


class Variant(BaseModel):
    model_config = ConfigDict(frozen=True)

    item: Item
    name: str = "original"
    question: str
    choices: list[str]
    labels: list[str]
    target: int

    @property
    def id(self) -> str:
        return f"{self.item.id}/{self.name}"

    @property
    def target_label(self) -> str:
        return self.labels[self.target]


def original(item: Item) -> Variant:
    return Variant(item=item, question=item.question, choices=item.choices, labels=item.labels,
                   target=item.target)


def make_variants(items: list[Item]) -> list[Variant]:
    return [original(item) for item in items]
