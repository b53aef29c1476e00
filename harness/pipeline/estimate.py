"""What a run is about to ask, counted before it starts (printed by the CLI, used by the dry run)."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from pydantic import BaseModel

from harness.backends.base import Request
from harness.pipeline.plan import Chunk


class Estimate(BaseModel):
    """What a run is about to ask, said before it starts."""

    items: int
    samples: int
    requests: int  # distinct first-wave requests (within each chunk of a streamed dataset)
    cached: int  # of which the request cache already answers
    second_turns: int  # dialogue turns written after the first answer
    prompt_tokens: int | None  # of the requests to compute, with the model's tokenizer (None: no local one)


def estimate(chunks: Iterable[Chunk], count_tokens: Callable[[list[Request]], int | None] | None,
             cached: Callable[[list[Request]], set[str]] | None = None) -> Estimate:
    """Counts of what a run will ask; tokens only of the requests the cache cannot answer (a fully
    cached run loads no tokenizer)."""
    items = samples = requests = in_cache = second = 0
    tokens: int | None = 0 if count_tokens else None
    for c in chunks:
        items += len(c.items)
        samples += len(c.variants)
        requests += len(c.first.unique)
        second += len(c.dialogues)
        hits = cached(c.first.unique) if cached else set()
        todo = [r for r in c.first.unique if r.key not in hits]
        in_cache += len(c.first.unique) - len(todo)
        if count_tokens and todo and tokens is not None:
            n = count_tokens(todo)  # None: the backend has no local tokenizer
            tokens = None if n is None else tokens + n
    return Estimate(items=items, samples=samples, requests=requests, cached=in_cache, second_turns=second,
                    prompt_tokens=tokens)
