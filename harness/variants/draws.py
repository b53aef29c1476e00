"""Perturbed variants: from one base item, its `original` prompt and meaning-preserving rewrites.

Every variant declared under `perturbations:` in a task file is a list of steps (perturbations
from harness/variants/perturbations/, composed in order). A variant with `repeats: s` is drawn s times
per item (ReCode's s randomized draws), named `NAME#1` … `NAME#s`, each with its own random
stream; all draws keep the base item's id and groups, so metrics compare them item by item.

Randomness is a pure function of (task seed, item id, variant draw, step index); perturbations
with task scope (a prompt format, an instruction wording) leave the item id out, so every item
gets the same format in one variant.
"""

from __future__ import annotations

from harness.config.task import Task
from harness.data.items import Item
from harness.variants.perturbations import Context, apply_steps
from harness.variants.variant import Variant, original


def draw_name(name: str, repeat: int, repeats: int) -> str:
    return name if repeats == 1 else f"{name}#{repeat + 1}"


def build_perturbed(task: Task, items: list[Item]) -> list[Variant]:
    spec = task.spec.perturbations
    assert spec is not None
    instruction = task.spec.prompt.instruction
    variants: list[Variant] = []
    for item in items:
        variants.append(original(item))
        base = original(item).model_copy(update={"instruction": instruction})
        ctx = Context(item_id=item.id, row=item.row, resolve=task.resolve)
        for i, v in enumerate(spec.variants):  # steps were parsed into their params models when the task loaded
            for r in range(v.repeats):
                name = draw_name(v.name, r, v.repeats)
                try:
                    p = apply_steps(base, v.steps, seed=spec.seed, variant=name, ctx=ctx)
                except (ValueError, OSError) as exc:  # a bad file or parameter found while applying
                    raise task.error(f"{' '.join(str(exc).split())[:300]} (item {item.id})",
                                     "perturbations", "variants", i) from None
                variants.append(p.model_copy(update={"name": name, "perturbation": v.name, "repeat": r}))
    return variants
