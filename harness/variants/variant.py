"""Variants: the prompts actually asked, made from base items.

A Variant keeps its base item (and so its id and groups) and carries the possibly changed
content. Without persuasion arms every item yields its `original` variant; persuasion arms
(harness/variants/arms.py) add pressured twins, and perturbations (harness/variants/perturbations/) add
meaning-preserving rewrites, without touching anything downstream.
"""

from __future__ import annotations

from harness.data.items import Item
from harness.variants.perturbations.base import Prompt


class Variant(Prompt):
    """A prompt as asked: the parts a perturbation may change (`Prompt`: question, choices, labels, target,
    instruction, format, order) plus where it comes from and what else it carries."""

    item: Item
    name: str = "original"
    instruction: str | None = None  # the task instruction; None: the task's own (prompt.instruction)
    asserted: int | None = None  # the option a persuasion arm claims is right (index into choices)
    pressure: str = ""  # persuasion sentence, rendered where the prompt template puts {{ pressure }}
    turns: int = 1  # 2: a dialogue; its second user turn is written after the model's first answer
    followup: str | None = None  # that second user turn, once written
    perturbation: str | None = None  # the declared perturbed variant this is a draw of
    repeat: int = 0  # which draw (0-based) of a randomized perturbation
    sample_index: int = 0  # which of the n samples of this prompt (pass@k): its own request, seed and cache entry

    @property
    def original_index(self) -> list[int]:
        return list(self.order) if self.order is not None else list(range(len(self.choices)))

    def option_of(self, label: str | None) -> int | None:
        """The item's own option (index before any reordering) that `label` names here."""
        position = self.labels.index(label) if label in self.labels else None
        if position is None or position >= len(self.choices):
            return None  # no such option (open answers grade into labels that are not options)
        return self.original_index[position]

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
