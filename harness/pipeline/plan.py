"""Requests: render each variant's prompt and say what to ask the model; the one planning step that a run,
a dry run, `harness validate` and a replay all use.

`plan` deduplicates: identical requests (same messages, candidates and settings) are sent once.
A variant with a `followup` is a dialogue: its first turn is planned here, and its second turn
(`followup_request`) once the first answer is known, so all dialogues' turn k go out as one batch.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import NamedTuple

from pydantic import BaseModel, ConfigDict

from harness.backends.base import Message, Request, Sampling
from harness.backends.replay import RecordedRequest
from harness.config.task import Task
from harness.config.templates import load_template
from harness.data.items import Item, TaskData
from harness.data.targets import template_row
from harness.variants.build import make_variants
from harness.variants.variant import Variant


def template_context(task: Task, variant: Variant) -> dict:
    fmt = variant.format
    return {
        "question": variant.question,
        "choices": [{"label": lab, "text": text, "marker": fmt.marker(lab)}
                    for lab, text in zip(variant.labels, variant.choices)],
        "labels": variant.labels,
        "row": template_row(task, variant.item.row),
        "pressure": variant.pressure,
        "passages": [],
        "instruction": variant.instruction if variant.instruction is not None else task.spec.prompt.instruction,
        "format": {"separator": fmt.descriptor_separator, "joiner": fmt.field_joiner,
                   "option_separator": fmt.option_separator,
                   "question": fmt.descriptor("Question"), "answer": fmt.descriptor("Answer")},
        **task.kind.template_context(variant),
    }


def sample_seed(seed: int, sample_index: int) -> int:
    """The sampling seed of sample `sample_index` of a prompt: the run's seed for sample 0 (so every
    request of a one-sample task keeps its key), a distinct 63-bit value from sha256 for the others."""
    if sample_index == 0:
        return seed
    return int.from_bytes(hashlib.sha256(f"{seed}\x00sample\x00{sample_index}".encode()).digest()[:8], "big") >> 1


def build_request(task: Task, variant: Variant, seed: int, history: tuple[Message, ...] = ()) -> Request:
    """The request for a variant; `history` (assistant answer, user follow-up) is appended after
    the first user turn for the second turn of a dialogue."""
    spec = task.spec
    context = template_context(task, variant)
    system = [task.system_instruction] if task.system_instruction else []
    if spec.prompt.system:
        system.append(load_template(task.resolve(spec.prompt.system)).render(context, item_id=variant.item.id))
    messages = [Message(role="system", content="\n\n".join(system))] if system else []
    user = load_template(task.resolve(spec.prompt.template)).render(context, item_id=variant.item.id,
                                                                    strip=not task.kind.verbatim_prompt)
    messages.append(Message(role="user", content=user))
    messages.extend(history)
    gen = spec.generation
    return Request(
        messages=tuple(messages),
        chat_template=spec.prompt.chat_template,
        generate=spec.answer == "generate",
        candidates=task.kind.candidates(task, variant),
        sampling=Sampling(max_tokens=gen.max_tokens, temperature=gen.temperature, top_p=gen.top_p,
                          stop=tuple(gen.stop), seed=sample_seed(seed, variant.sample_index)),
        truncate=spec.prompt.truncate,
    )


def followup_request(task: Task, variant: Variant, first: Request, first_answer: str, seed: int) -> Request:
    """Turn 2 of a dialogue: the first prompt, the model's first answer, then the follow-up."""
    assert variant.followup is not None
    history = (Message(role="assistant", content=first_answer), Message(role="user", content=variant.followup))
    request = build_request(task, variant, seed, history)
    assert request.messages[: len(first.messages)] == first.messages
    return request


class Plan(BaseModel):
    """Requests in variant order, plus the distinct ones to send."""

    model_config = ConfigDict(frozen=True)

    requests: list[Request]
    unique: list[Request]

    @property
    def keys(self) -> list[str]:
        return [r.key for r in self.requests]


def plan(task: Task, variants: list[Variant], seed: int, *, by_item: bool = False) -> Plan:
    """`by_item`: requests for recorded outputs (replay), one per item and variant even when two
    items' prompts are the same."""
    requests = [build_request(task, v, seed) for v in variants]
    if by_item:
        requests = [RecordedRequest(**r.model_dump(), item=v.item.id, variant=v.name)
                    for r, v in zip(requests, variants)]
    unique = list({r.key: r for r in requests}.values())
    return Plan(requests=requests, unique=unique)


class Chunk(NamedTuple):
    """Items evaluated together (all of them, unless the dataset is streamed) and their first-wave plan."""

    items: list[Item]
    variants: list[Variant]
    first: Plan
    dialogues: list[int]  # indices of the variants with a second turn


def prepare(task: Task, items: list[Item], seed: int, by_item: bool = False) -> Chunk:
    variants = make_variants(task, items)
    return Chunk(items, variants, plan(task, variants, seed, by_item=by_item),
                 [i for i, v in enumerate(variants) if v.turns == 2])


def planned_chunks(task: Task, data: TaskData, seed: int, by_item: bool = False) -> Iterator[Chunk]:
    """Every chunk of the task's items, planned: the whole dataset at once unless it is streamed."""
    for items in data.chunks():
        yield prepare(task, items, seed, by_item)
