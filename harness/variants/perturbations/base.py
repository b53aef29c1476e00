"""Perturbation core: the prompt parts a perturbation may change, its params, the registry, seeded rngs.

A perturbation is a pure function `(Prompt, Params, random.Random, Context) -> Prompt`. Its randomness
comes only from the rng handed to it, seeded from (seed, item id, variant, step) as in ReCode's
seeded variants (SPEC §5.1), so a draw never depends on the order or the other items of a run.
Families live in one module each and register themselves here.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, field_validator, model_validator

from harness.core.plugins import PERTURBATIONS

Field = Literal["question", "options", "instruction"]
Casing = Literal["identity", "title", "upper", "lower"]
Symbols = Literal["letters", "lower", "numbers", "roman_upper", "roman_lower", "roman_unicode"]
Scope = Literal["item", "task"]

FIELDS: tuple[Field, ...] = ("question", "options", "instruction")  # the order text perturbations visit them


def check_option_wrapper(value: str) -> str:
    """An option wrapper holds exactly one "{}" (where the marker goes) and no other brace."""
    rest = value.replace("{}", "", 1)
    if "{}" not in value or "{" in rest or "}" in rest:
        raise ValueError("option_wrapper needs exactly one '{}' (where the marker goes) and no other braces")
    return value


class PromptFormat(BaseModel):
    """The non-semantic layout of a prompt (When Punctuation Matters grammar, SPEC §6.1); defaults = ours."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    descriptor_separator: str = ": "  # between a field descriptor and its text: "Question: ..."
    field_joiner: str = "\n"  # between fields (question, options block, instruction)
    descriptor_casing: Casing = "identity"  # casing of the descriptors "Question" / "Answer"
    option_wrapper: str = "{}."  # how a marker is wrapped: "({})", "{}.", "{})", "{} )", "[{}]", "<{}>"
    option_separator: str = " "  # between the wrapped marker and the option text

    @field_validator("option_wrapper")
    @classmethod
    def _one_slot(cls, value: str) -> str:
        return check_option_wrapper(value)

    def descriptor(self, name: str) -> str:
        """`name` ("Question", "Answer", ...) in this format's descriptor casing."""
        if self.descriptor_casing == "title":
            return name.title()
        if self.descriptor_casing == "upper":
            return name.upper()
        if self.descriptor_casing == "lower":
            return name.lower()
        return name

    def marker(self, label: str) -> str:
        """The option marker for `label`, wrapped: "A" -> "A." with the default wrapper."""
        return self.option_wrapper.replace("{}", label)


class Prompt(BaseModel):
    """The parts of one prompt a perturbation may change; the answer is `choices[target]`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    question: str
    choices: list[str]
    labels: list[str]
    target: int  # index into choices of the gold option
    instruction: str = ""  # the task instruction line
    format: PromptFormat = PromptFormat()
    order: list[int] | None = None  # order[k]: the item's original option shown at position k (None: unchanged)

    @model_validator(mode="after")
    def _consistent(self) -> Prompt:
        if self.choices and len(self.labels) != len(self.choices):  # open answers: labels are grades, no options
            raise ValueError(f"{len(self.labels)} labels for {len(self.choices)} choices")
        if self.choices and not 0 <= self.target < len(self.choices):
            raise ValueError(f"target {self.target} is not an index into {len(self.choices)} choices")
        if self.order is not None and sorted(self.order) != list(range(len(self.choices))):
            raise ValueError("order must be a permutation of the choice indices")
        return self


@dataclass(frozen=True)
class Context:
    """What a perturbation may read besides the prompt: the item id, its raw row, a path resolver."""

    item_id: str
    row: dict[str, Any]  # the raw dataset row
    resolve: Callable[[str], Path]  # resolves a path param relative to the task file


class Params(BaseModel):
    """Base of every perturbation's params: `kind` names the perturbation, `on` the text fields it edits."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    targets_text: ClassVar[bool] = True  # False: `on` means nothing to this perturbation and may not be set

    kind: str
    on: list[Field] = ["question"]  # which parts the perturbation touches (text perturbations)

    @field_validator("on")
    @classmethod
    def _check_on(cls, value: list[Field]) -> list[Field]:
        if not cls.targets_text:
            raise ValueError("`on` does not apply to this perturbation (it does not edit text fields)")
        if not value:
            raise ValueError("`on` needs at least one of question, options, instruction")
        if len(set(value)) != len(value):
            raise ValueError("`on` lists a field twice")
        return value

    def uses_rng(self) -> bool:
        """Whether these params make the output depend on the rng (False e.g. for casing upper)."""
        return True


Apply = Callable[[Prompt, Any, random.Random, Context], Prompt]


@dataclass(frozen=True)
class Perturbation:
    """A registered perturbation: its params model, its function and how its randomness is scoped."""

    name: str
    params: type[Params]
    apply: Apply
    scope: Scope  # "task": the random choice is the same for every item (seed excludes the item id)
    randomized: bool  # False when the output never depends on the rng
    description: str

    def randomized_for(self, params: Params) -> bool:
        """Whether the output depends on the rng for these params (casing random: yes; casing upper: no)."""
        return self.randomized and params.uses_rng()


REGISTRY = PERTURBATIONS  # name -> Perturbation


def register(
    name: str, params: type[Params], *, scope: Scope = "item", randomized: bool = True, description: str = ""
) -> Callable[[Apply], Apply]:
    """Decorator: register `fn(prompt, params, rng, ctx) -> Prompt` under `name`."""

    def decorator(fn: Apply) -> Apply:
        kind = params.model_fields["kind"].default
        if kind != name:
            raise ValueError(f"params {params.__name__} must default `kind` to '{name}', not {kind!r}")
        doc = description or (fn.__doc__ or "").strip().split("\n")[0]
        PERTURBATIONS.add(name, Perturbation(name, params, fn, scope, randomized, doc), doc, fn.__module__)
        return fn

    return decorator


def map_fields(prompt: Prompt, on: list[Field], edit: Callable[[str], str]) -> Prompt:
    """Apply `edit` to each field in `on` (options: each choice in order); empty texts and empty results stay."""

    def safe(text: str) -> str:
        if not text.strip():
            return text
        new = edit(text)
        return new if new.strip() else text

    update: dict[str, Any] = {}
    for field in FIELDS:
        if field not in on:
            continue
        if field == "options":
            update["choices"] = [safe(c) for c in prompt.choices]
        else:
            update[field] = safe(getattr(prompt, field))
    return prompt.model_copy(update=update)


def text_perturbation(
    name: str, params: type[Params], *, randomized: bool = True, description: str = ""
) -> Callable[[Callable[[str, Any, random.Random], str]], Callable[[str, Any, random.Random], str]]:
    """Decorator: register `fn(text, params, rng) -> str`, applied to each field in `params.on`."""

    def decorator(fn: Callable[[str, Any, random.Random], str]) -> Callable[[str, Any, random.Random], str]:
        def apply(prompt: Prompt, p: Params, rng: random.Random, ctx: Context) -> Prompt:
            return map_fields(prompt, p.on, lambda text: fn(text, p, rng))

        apply.__doc__, apply.__module__ = fn.__doc__, fn.__module__
        register(name, params, scope="item", randomized=randomized, description=description)(apply)
        return fn

    return decorator


def parse_params(data: dict[str, Any]) -> Params:
    """Validate one step `{kind: NAME, ...}` with NAME's params model (pydantic errors propagate)."""
    kind = data.get("kind") if isinstance(data, dict) else None
    if not isinstance(kind, str) or kind not in REGISTRY:
        known = ", ".join(sorted(REGISTRY))
        if kind is None:
            raise ValueError(f"a perturbation step needs a `kind` (known: {known})")
        raise ValueError(f"unknown perturbation {str(kind)!r} (known: {known})")
    return REGISTRY[kind].params.model_validate(data)


def step_rng(seed: int, item_id: str, variant: str, step: int, scope: str) -> random.Random:
    """A random.Random seeded from sha256(seed, item id unless scope is "task", variant, step index)."""
    item = "" if scope == "task" else item_id
    key = "\x00".join([str(seed), scope, item, variant, str(step)])
    return random.Random(int.from_bytes(hashlib.sha256(key.encode()).digest()[:16], "big"))


def apply_steps(prompt: Prompt, steps: list[Params], *, seed: int, variant: str, ctx: Context) -> Prompt:
    """Compose the steps in order, each with its own rng from `step_rng`."""
    for i, params in enumerate(steps):
        perturbation = REGISTRY[params.kind]
        if not isinstance(params, perturbation.params):
            raise TypeError(f"step {i}: {type(params).__name__} is not {perturbation.params.__name__}")
        rng = step_rng(seed, ctx.item_id, variant, i, perturbation.scope)
        prompt = perturbation.apply(prompt, params, rng, ctx)
    return prompt


def is_randomized(steps: list[Params]) -> bool:
    """Whether a list of steps depends on the rng (so repeated draws can differ)."""
    return any(REGISTRY[p.kind].randomized_for(p) for p in steps)
