"""Requests: render each variant's prompt and say what to ask the model.

`plan` deduplicates: identical requests (same messages, candidates and settings) are sent once.
A variant with a `followup` is a dialogue: its first turn is planned here, and its second turn
(`followup_request`) once the first answer is known, so all dialogues' turn k go out as one batch.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from harness.backends.base import Message, Request, Sampling
from harness.backends.replay import RecordedRequest
from harness.config.spec import Task
from harness.config.templates import load_template
from harness.data.targets import template_row
from harness.variants.variant import Variant


def template_context(task: Task, variant: Variant) -> dict:
    fmt = variant.format
    instruction = task.spec.prompt.instruction
    return {
        "question": variant.question,
        "choices": [{"label": lab, "text": text, "marker": fmt.marker(lab)}
                    for lab, text in zip(variant.labels, variant.choices)],
        "labels": variant.labels,
        "row": template_row(task, variant.item.row),
        "pressure": variant.pressure,
        "passages": [p.model_dump() for p in variant.item.passages],
        "instruction": variant.instruction if variant.instruction is not None else instruction,
        "format": {"separator": fmt.descriptor_separator, "joiner": fmt.field_joiner,
                   "option_separator": fmt.option_separator,
                   "question": fmt.descriptor("Question"), "answer": fmt.descriptor("Answer")},
    }


def build_request(task: Task, variant: Variant, seed: int, history: tuple[Message, ...] = ()) -> Request:
    """The request for a variant; `history` (assistant answer, user follow-up) is appended after
    the first user turn for the second turn of a dialogue."""
    spec = task.spec
    context = template_context(task, variant)
    messages = []
    if spec.prompt.system:
        system = load_template(task.resolve(spec.prompt.system)).render(context, item_id=variant.item.id)
        messages.append(Message(role="system", content=system))
    user = load_template(task.resolve(spec.prompt.template)).render(context, item_id=variant.item.id)
    messages.append(Message(role="user", content=user))
    messages.extend(history)
    gen = spec.generation
    return Request(
        messages=tuple(messages),
        chat_template=spec.prompt.chat_template,
        generate=spec.answer == "generate",
        candidates=tuple(variant.labels) if spec.type == "multiple_choice" else (),
        sampling=Sampling(max_tokens=gen.max_tokens, temperature=gen.temperature, top_p=gen.top_p,
                          stop=tuple(gen.stop), seed=seed),
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
