"""A prefix tree over a batch's prompt token ids: which token spans run once, and for which prompts.

Siblings share most of their prompt: one item's persuasion arms share the system prompt, the
question and the options and differ near the end; a dialogue's second turns repeat the whole
first turn; perturbation draws share the system prompt. A radix tree over the token ids (each
node one span shared by every prompt below it) says what to compute once: an internal node's
span runs once and its key/value cache serves all its children; a leaf is one prompt's own
suffix, which always keeps at least the prompt's last token (its logits are the answer).

A node is kept only when computing it once saves at least `min_saving` token positions
((prompts below it - 1) x its length); otherwise its span is handed down to its children. Depth is
capped (`max_depth` internal levels) so a batch is a bounded number of forward passes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

MIN_SAVING = 16  # token positions: a smaller saving costs more (one more pass, a cache copy) than it saves
MAX_DEPTH = 4  # internal levels (forward passes before the leaves)


@dataclass
class Node:
    start: int  # the span [start, end) of the token ids of every prompt in `rows`
    end: int
    rows: list[int]  # indices of the prompts below this node (a leaf: exactly one)
    children: list[Node] = field(default_factory=list)

    @property
    def saving(self) -> int:
        return (len(self.rows) - 1) * (self.end - self.start)


@dataclass
class Ref:
    """Where a node's past lives: row `row` of the internal level `level` (None: no past). prefix_kv.py uses
    it for row `row` of forward pass `level` too (a level may run as several passes)."""

    level: int
    row: int


@dataclass
class Plan:
    """Internal levels (each one forward pass over its nodes' spans) and the leaves, in prompt order."""

    levels: list[list[tuple[Node, Ref | None]]]
    leaves: list[tuple[Node, Ref | None]]  # leaves[i] is prompt i's own suffix and where its past lives

    @property
    def computed_tokens(self) -> int:
        return sum(n.end - n.start for level in self.levels for n, _ in level) + sum(
            n.end - n.start for n, _ in self.leaves)


def build_tree(prompts: list[list[int]], min_saving: int = MIN_SAVING, max_depth: int = MAX_DEPTH) -> Node:
    """The pruned radix tree over `prompts` (the root may have an empty span)."""
    root = _split(prompts, list(range(len(prompts))), 0, 0, max_depth)
    _prune(root, min_saving)
    if root.children and root.saving < min_saving:
        for child in root.children:
            child.start = root.start
        root.end = root.start
    return root


def plan(prompts: list[list[int]], min_saving: int = MIN_SAVING, max_depth: int = MAX_DEPTH) -> Plan:
    """The forward passes that compute every prompt's last-position logits, shared spans once."""
    root = build_tree(prompts, min_saving, max_depth)
    levels: list[list[tuple[Node, Ref | None]]] = []
    leaves: list[tuple[Node, Ref | None] | None] = [None] * len(prompts)

    def visit(node: Node, parent: Ref | None, depth: int) -> None:
        if not node.children:
            leaves[node.rows[0]] = (node, parent)
            return
        here = parent
        if node.end > node.start:
            while len(levels) <= depth:
                levels.append([])
            levels[depth].append((node, parent))
            here, depth = Ref(depth, len(levels[depth]) - 1), depth + 1
        for child in node.children:
            visit(child, here, depth)

    visit(root, None, 0)
    return Plan(levels, [leaf for leaf in leaves if leaf is not None])


def length_groups(lengths: list[int], pass_cost: int) -> list[list[int]]:
    """Indices of spans cut into passes, like lengths together, at the least cost: a pass costs
    its rows x its longest span (padded positions cost what tokens cost) plus `pass_cost` positions.
    Sorted longest first, the best cut into contiguous runs is found exactly (dynamic programming)."""
    order = sorted(range(len(lengths)), key=lambda i: -lengths[i])
    n = len(order)
    best = [0.0] + [float("inf")] * n  # best[j]: the cost of the first j spans
    cut = [0] * (n + 1)
    for j in range(1, n + 1):
        for i in range(j):  # spans i..j-1 in one pass, padded to the longest, lengths[order[i]]
            cost = best[i] + (j - i) * lengths[order[i]] + pass_cost
            if cost < best[j]:
                best[j], cut[j] = cost, i
    groups, j = [], n
    while j > 0:
        groups.append(order[cut[j]:j])
        j = cut[j]
    return groups[::-1]


def lcp(a: Sequence[int], b: Sequence[int]) -> int:
    """Length of the longest common prefix of two token lists."""
    k, n = 0, min(len(a), len(b))
    while k < n and a[k] == b[k]:
        k += 1
    return k


def _split(prompts: list[list[int]], rows: list[int], start: int, depth: int, max_depth: int) -> Node:
    if len(rows) == 1:
        return Node(start, len(prompts[rows[0]]), rows)
    first = prompts[rows[0]]
    end = min(min(len(prompts[r]) for r in rows) - 1, min(lcp(first, prompts[r]) for r in rows[1:]))
    end = max(end, start)
    if depth >= max_depth:
        return Node(start, end, rows, [Node(end, len(prompts[r]), [r]) for r in rows])
    groups: dict[object, list[int]] = {}
    for r in rows:  # a prompt with one token left after the span is a leaf of its own
        key = ("last", r) if len(prompts[r]) == end + 1 else prompts[r][end]
        groups.setdefault(key, []).append(r)
    return Node(start, end, rows, [_split(prompts, g, end, depth + 1, max_depth) for g in groups.values()])


def _prune(node: Node, min_saving: int) -> None:
    """Hand the span of every internal node not worth computing once down to its children."""
    kept: list[Node] = []
    for child in node.children:
        _prune(child, min_saving)
        if child.children and child.saving < min_saving:
            for grandchild in child.children:
                grandchild.start = child.start
            kept.extend(child.children)
        else:
            kept.append(child)
    node.children = kept
