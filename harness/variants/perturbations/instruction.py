"""Instruction rewording: replace the task instruction by another wording of the same request.

Wordings come inline, from a JSON list, or from PromptBench's prompt file (microsoft/promptbench;
zero-shot task-oriented and role-oriented prompts per dataset, SPEC §7.2), of which only the
instruction is kept. Task scope: one wording per variant for all items, as in PromptBench's
per-prompt evaluation; `{task}` is filled per item when the topic comes from a row column.
"""

from __future__ import annotations

import json
import random
import re
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import Field as Constraint
from pydantic import field_validator, model_validator

from harness.variants.perturbations.base import Context, Params, Prompt, register

DEFAULT_TOPIC = "the following subject"
SOURCES = ("task_oriented", "role_oriented")

_PLACEHOLDER = re.compile(r"\{[^{}]*\}")
_TRAILING_QUESTION = re.compile(r"\bQuestion\s*:\s*$", re.IGNORECASE)


def clean_instruction(text: str) -> str:
    """Keep only the instruction of a PromptBench prompt: drop the `{content}` line and all after it."""
    lines = text.split("\n")
    for i, line in enumerate(lines):
        if "{content}" in line:
            lines = lines[:i]
            break
    return _TRAILING_QUESTION.sub("", "\n".join(lines).strip()).strip()


def _strings(value: Any, where: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(s, str) for s in value):
        raise ValueError(f"{where} must be a list of strings")
    return value


@lru_cache(maxsize=16)
def _load(path: Path, source: str, dataset: str | None) -> tuple[str, ...]:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"cannot read instructions file {path} ({exc})") from None
    if isinstance(doc, list):
        return tuple(clean_instruction(s) for s in _strings(doc, f"instructions file {path}"))
    if not isinstance(doc, dict) or not all(isinstance(doc.get(s), dict) for s in SOURCES):
        raise ValueError(f"instructions file {path} must be a JSON list of strings or PromptBench's prompt dict "
                         f"(with {' and '.join(SOURCES)})")
    found: list[str] = []
    for src in SOURCES if source == "both" else (source,):
        known = ", ".join(sorted(doc[src]))
        if dataset is None:
            raise ValueError(f"a PromptBench prompt file needs `dataset` (one of: {known})")
        if dataset not in doc[src]:
            raise ValueError(f"dataset {dataset!r} is not in {src} of {path} (known: {known})")
        found += _strings(doc[src][dataset], f"{src}.{dataset} of {path}")
    return tuple(clean_instruction(s) for s in found)


def load_instructions(path: str | Path, source: str = "task_oriented", dataset: str | None = None) -> tuple[str, ...]:
    """Read (once, cached) instruction wordings: a JSON list, or PromptBench's dict picked by source and dataset."""
    return _load(Path(path).resolve(), source, dataset)


class InstructionParams(Params):
    targets_text = False

    kind: Literal["instruction"] = "instruction"
    file: str | None = None  # JSON list of strings, or PromptBench's prompt file
    instructions: list[str] | None = None  # the wordings given inline instead of `file`
    source: Literal["task_oriented", "role_oriented", "both"] = "task_oriented"  # PromptBench file only
    dataset: str | None = None  # PromptBench file only, e.g. "mmlu"
    index: int | None = Constraint(None, ge=0)  # which wording; None: drawn with the rng
    topic: str | None = None  # fills {task}
    topic_field: str | None = None  # or: the row column that fills {task} (underscores become spaces)

    @field_validator("instructions")
    @classmethod
    def _non_empty(cls, value: list[str] | None) -> list[str] | None:
        if value is not None and (not value or not all(s.strip() for s in value)):
            raise ValueError("instructions must be non-empty strings, at least one")
        return value

    @model_validator(mode="after")
    def _one_source(self) -> InstructionParams:
        if (self.file is None) == (self.instructions is None):
            raise ValueError("give exactly one of `file` and `instructions`")
        if self.topic is not None and self.topic_field is not None:
            raise ValueError("give at most one of `topic` and `topic_field`")
        if self.instructions is not None:
            if {"source", "dataset"} & self.model_fields_set:
                raise ValueError("`source` and `dataset` pick from a file; they do not apply to inline instructions")
            if self.index is not None and self.index >= len(self.instructions):
                raise ValueError(f"index {self.index} is out of range: there are {len(self.instructions)} "
                                 "instructions")
        return self

    def uses_rng(self) -> bool:
        return self.index is None and (self.instructions is None or len(self.instructions) > 1)


def _topic(p: InstructionParams, ctx: Context) -> str:
    if p.topic is not None:
        return p.topic
    if p.topic_field is None:
        return DEFAULT_TOPIC
    value: Any = ctx.row
    for part in p.topic_field.split("."):
        if not isinstance(value, dict) or part not in value:
            raise ValueError(f"topic_field {p.topic_field!r} is not in the row of item {ctx.item_id}")
        value = value[part]
    text = " ".join(str(value).replace("_", " ").split()) if value is not None else ""
    return text or DEFAULT_TOPIC


@register("instruction", InstructionParams, scope="task")
def instruction(prompt: Prompt, p: InstructionParams, rng: random.Random, ctx: Context) -> Prompt:
    """Replace the instruction by a wording from a list or PromptBench's prompts, `{task}` filled in."""
    if p.instructions is not None:
        wordings = tuple(clean_instruction(s) for s in p.instructions)
    else:
        assert p.file is not None
        wordings = load_instructions(ctx.resolve(p.file), p.source, p.dataset)
    if not wordings:
        raise ValueError("the instruction list is empty")
    index = p.index if p.index is not None else rng.randrange(len(wordings))
    if index >= len(wordings):
        raise ValueError(f"index {index} is out of range: there are {len(wordings)} instructions")
    wording = wordings[index]
    if not wording:
        raise ValueError(f"instruction {index} is empty once the {{content}} line is dropped")
    leftover = _PLACEHOLDER.search(wording.replace("{task}", ""))
    if leftover:
        raise ValueError(f"instruction {index} has a placeholder {leftover[0]}; only {{task}} can be filled")
    return prompt.model_copy(update={"instruction": wording.replace("{task}", _topic(p, ctx))})
