"""`harness run --dry-run`: what a run would ask, without loading a model.

Builds the variants and requests exactly as a run does, renders a few example prompts per
variant, and counts the distinct requests and their prompt tokens with the model's tokenizer
(read from the model folder; the weights are never loaded). For a server backend there is no
local tokenizer, so characters are counted instead.
"""

from __future__ import annotations

from pydantic import BaseModel

from harness.config.task import Task
from harness.pipeline.plan import planned_chunks


class VariantPreview(BaseModel):
    name: str
    samples: int
    examples: list[str]  # the prompt text as the model sees it


class DryRun(BaseModel):
    task: str
    items: int
    samples: int
    requests_unique: int
    second_turns: int  # dialogue turns written after the first answer, not counted in requests_unique
    prompt_tokens: int | None  # over the distinct first-wave requests; None without a tokenizer
    prompt_chars: int
    variants: list[VariantPreview]


def dry_run(task: Task, tokenizer, *, examples: int = 2, seed: int = 1234,  # type: ignore[no-untyped-def]
            limit: int | float | None = None, sample: str = "first", gen_kwargs: dict | None = None,
            system_instruction: str | None = None) -> DryRun:
    from harness.backends.prompting import encode_prompt, render_plain, render_prompt
    from harness.data.items import TaskData
    from harness.pipeline.runner import RunOptions, prepared

    task, _ = prepared(task, RunOptions(seed=seed, limit=limit, sample=sample, gen_kwargs=gen_kwargs or {},
                                        system_instruction=system_instruction))  # the rows and draws a run would use

    def text(request) -> str:  # type: ignore[no-untyped-def]
        if tokenizer is None:
            return render_plain(request.messages)
        return render_prompt(tokenizer, request.messages, request.chat_template)

    data = TaskData(task)
    previews: dict[str, VariantPreview] = {}
    samples = unique = second = chars = tokens = 0
    for chunk in planned_chunks(task, data, seed):  # one chunk unless the dataset is streamed
        variants, planned = chunk.variants, chunk.first
        for variant, request in zip(variants, planned.requests):
            p = previews.setdefault(variant.name, VariantPreview(name=variant.name, samples=0, examples=[]))
            p.samples += 1
            if len(p.examples) < examples:
                p.examples.append(text(request))
        samples += len(variants)
        unique += len(planned.unique)
        second += sum(v.turns == 2 for v in variants)
        chars += sum(len(text(r)) for r in planned.unique)
        if tokenizer is not None:
            tokens += sum(len(encode_prompt(tokenizer, r)) for r in planned.unique)
    return DryRun(task=task.spec.name, items=data.count, samples=samples, requests_unique=unique,
                  second_turns=second, prompt_tokens=tokens if tokenizer is not None else None, prompt_chars=chars,
                  variants=list(previews.values()))


def load_tokenizer(model: str | None):  # type: ignore[no-untyped-def]
    """The tokenizer of an embedded, local or hub model (no weights)."""
    from harness.backends.models import load_tokenizer as tokenizer_of
    from harness.backends.models import resolve_model

    return tokenizer_of(resolve_model(model))
