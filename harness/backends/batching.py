"""How the transformers backend cuts a wave of requests into batches: at most `size` prompts and at most
`max_tokens` prompt positions (the batch's prompts x its longest, what a left-padded pass computes and its
key/value cache holds), so short prompts fill large batches and long ones take fewer per batch.
A prompt longer than `max_tokens` runs alone.

Two orders: longest first (no sharing: padding is least, and a memory error shows in the first batch),
and sorted by token ids (prefix sharing: siblings adjacent, each batch cut where neighbours share least,
so an item's arms stay in one batch when they fit).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from harness.backends.prefix_tree import lcp


def fitting(lengths: Sequence[int], start: int, size: int, max_tokens: float = math.inf) -> int:
    """The end of the longest run from `start` that fits: at most `size` prompts, prompts x longest <=
    `max_tokens` (at least one prompt)."""
    end, longest = start + 1, lengths[start]
    while end < len(lengths) and end - start < size and (end - start + 1) * max(longest, lengths[end]) <= max_tokens:
        longest = max(longest, lengths[end])
        end += 1
    return end


def longest_first(prompts: list[list[int]], order: list[int], size: int, max_tokens: int) -> list[list[int]]:
    """`order` sorted longest first, cut greedily into batches that fit."""
    order = sorted(order, key=lambda i: -len(prompts[i]))
    lengths = [len(prompts[i]) for i in order]
    batches, i = [], 0
    while i < len(order):
        end = fitting(lengths, i, size, max_tokens)
        batches.append(order[i:end])
        i = end
    return batches


def sibling_batches(prompts: list[list[int]], order: list[int], size: int,
                    max_tokens: float = math.inf) -> list[list[int]]:
    """`order` (sorted by token ids, so siblings are adjacent) cut into batches that fit, each cut where
    neighbours share the least among the cuts that keep a batch at least half as long as it could be."""
    lengths = [len(prompts[i]) for i in order]
    batches, i = [], 0
    while i < len(order):
        end = fitting(lengths, i, size, max_tokens)
        if end == len(order):
            batches.append(order[i:])
            break
        low = i + max(1, (end - i + 1) // 2)
        cut = min(range(low, end + 1), key=lambda j: (lcp(prompts[order[j - 1]], prompts[order[j]]), -j))
        batches.append(order[i:cut])
        i = cut
    return batches
