"""Option order perturbation: show the same options in another order, the answer following its text.

Labels stay where they are (A, B, C ...), so the gold label moves with the gold text: position bias
and label bias show up as a changed answer (MMLU-style option permutation; CircularEval's rotations).
"""

from __future__ import annotations

import random
from typing import Literal

from pydantic import model_validator

from harness.variants.perturbations.base import Context, Params, Prompt, register


class OptionShuffleParams(Params):
    targets_text = False

    kind: Literal["option_shuffle"] = "option_shuffle"
    mode: Literal["random", "reverse", "rotate"] = "random"
    shift: int = 1  # mode rotate: the option at position k moves to position k + shift (mod n)

    @model_validator(mode="after")
    def _shift_only_rotate(self) -> OptionShuffleParams:
        if "shift" in self.model_fields_set and self.mode != "rotate":
            raise ValueError("`shift` applies only to mode rotate")
        return self

    def uses_rng(self) -> bool:
        return self.mode == "random"


def permutation(n: int, p: OptionShuffleParams, rng: random.Random) -> list[int]:
    """perm[k] = the current position of the option shown at position k; random is never the identity."""
    identity = list(range(n))
    if p.mode == "reverse":
        return identity[::-1]
    if p.mode == "rotate":
        return [(k - p.shift) % n for k in identity] if n else []
    perm = identity[:]
    rng.shuffle(perm)
    while n > 1 and perm == identity:
        rng.shuffle(perm)
    return perm


@register("option_shuffle", OptionShuffleParams)
def option_shuffle(prompt: Prompt, p: OptionShuffleParams, rng: random.Random, ctx: Context) -> Prompt:
    """Permute the options (random, reversed or rotated); the target follows the gold option's text."""
    perm = permutation(len(prompt.choices), p, rng)
    order = prompt.order if prompt.order is not None else list(range(len(prompt.choices)))
    return prompt.model_copy(update={
        "choices": [prompt.choices[i] for i in perm],
        "target": perm.index(prompt.target) if perm else prompt.target,
        "order": [order[i] for i in perm],
    })
