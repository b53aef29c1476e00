"""Key/value caches kept across waves: a dialogue's second turn continues from its first turn's cache.

A dialogue's follow-up repeats the whole first turn (system prompt, question, options), then adds
the model's answer and the follow-up question. The first turn ran one wave earlier, so the prefix
tree of the second wave's batch cannot share it. Before the first wave the runner names the
requests whose prompts follow-ups will extend (`Backend.keep_prefixes`); the transformers backend
keeps each one's cache rows here (its token ids and, per layer, keys and values of shape
(kv heads, tokens, head dim)), and in the next wave a prompt whose longest common prefix with a
kept prompt is long enough runs only its own suffix on those rows.

The keys and values at a position depend only on the tokens up to it, so any common prefix of a
kept prompt, not only the whole of it, is exact. The longest common prefix with any prompt of a
set sorted by token ids is reached at one of the two neighbours of the prompt's insertion point,
so a lookup is one bisection.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from typing import Any

from harness.backends.prefix_tree import lcp

Layers = list[tuple[Any, Any]]  # per layer (keys, values), each (kv heads, tokens, head dim)

BUDGET_BYTES = 1 << 30  # at most this much cache kept (about 23,000 tokens of SmolLM2-135M in float32)
MIN_REUSE = 16  # token positions: a shorter common prefix is not worth a cache copy


@dataclass
class Kept:
    ids: tuple[int, ...]
    layers: Layers  # each (kv heads, len(ids), head dim)


class KeptPrefixes:
    def __init__(self, budget_bytes: int = BUDGET_BYTES) -> None:
        self.budget = budget_bytes
        self.wanted: set[str] = set()  # request keys whose prompt caches to keep
        self.entries: list[Kept] = []  # sorted by ids
        self.bytes = 0
        self.served = 0  # prompt tokens run on kept rows instead of computed again (over the backend's life)

    def want(self, keys: set[str]) -> None:
        """Keep the caches of these requests from now on; drop everything kept before."""
        self.wanted, self.entries, self.bytes = set(keys), [], 0

    def add(self, ids: list[int], layers: Layers) -> bool:
        """Keep one prompt's rows (False: over the budget, or already kept)."""
        size = sum(k.numel() * k.element_size() + v.numel() * v.element_size() for k, v in layers)
        key = tuple(ids)
        at = bisect.bisect_left(self.entries, key, key=lambda e: e.ids)
        if self.bytes + size > self.budget or (at < len(self.entries) and self.entries[at].ids == key):
            return False
        self.entries.insert(at, Kept(key, layers))
        self.bytes += size
        return True

    def find(self, ids: list[int]) -> tuple[Kept | None, int]:
        """The kept prompt sharing the longest prefix with `ids`, and that prefix's length (None, 0: none)."""
        if not self.entries:
            return None, 0
        key = tuple(ids)
        at = bisect.bisect_left(self.entries, key, key=lambda e: e.ids)
        best, length = None, 0
        for entry in self.entries[max(at - 1, 0):at + 1]:
            n = lcp(entry.ids, ids)
            if n > length:
                best, length = entry, n
        return best, length

    def reusable(self, ids: list[int]) -> tuple[Kept | None, int]:
        """What a prompt can run on: a kept prefix of at least MIN_REUSE tokens, always leaving the prompt's last
        token to compute (its logits are the answer); (None, 0) otherwise."""
        entry, n = self.find(ids)
        n = min(n, len(ids) - 1)
        return (entry, n) if entry is not None and n >= MIN_REUSE else (None, 0)
