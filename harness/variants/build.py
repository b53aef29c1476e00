"""The variants of a chunk of items, and the second turn of a dialogue variant once its first answer is known.

The one entry point the pipeline calls: a task's `persuasion` block builds its arms (harness/variants/arms.py),
a `perturbations` block its perturbed draws (harness/variants/draws.py); otherwise each item is asked as is.
"""

from __future__ import annotations

from harness.config.task import Task
from harness.data.items import Item
from harness.variants.arms import build_arms, second_turn
from harness.variants.draws import build_perturbed
from harness.variants.variant import Variant, original


def make_variants(task: Task, items: list[Item]) -> list[Variant]:
    own = task.kind.variants(task, items)  # a kind that builds its own variants (code: released perturbed sets)
    if own is not None:
        return own
    if task.spec.persuasion is not None:
        return build_arms(task, items)
    if task.spec.perturbations is not None:
        return build_perturbed(task, items)
    return [original(item) for item in items]


def follow_up(task: Task, variant: Variant, first_answer: str | None) -> Variant | None:
    """A dialogue variant (`turns == 2`) with its second user turn written after the model's first answer;
    None when the arm cannot apply after that answer (the item is skipped for that arm, and counted)."""
    return second_turn(task, variant, first_answer)
