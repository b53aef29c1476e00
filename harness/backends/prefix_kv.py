"""Run a prefix-tree plan (prefix_tree.py) through a transformers model with key/value caches.

Each internal level runs its nodes' spans, left-padded, on their parents' cache rows (gathered from
the passes before). The leaves then run on their parents' rows, aligned by left padding (masked
out). Positions come from the attention mask, so every token sits where it sits in the unshared
left-padded batch: the logits are the same to float rounding (tests/backends/test_prefix_kv.py).

A pass pads every span to the longest, and a padded position costs what a token costs. So a level
or the leaves run as several passes, spans of like length together (`prefix_tree.length_groups`),
when the padding saved outweighs a pass's fixed cost (`pass_cost`, in token positions: measured
on a 2-core CPU, a forward pass costs about 18 positions of SmolLM2-135M; on a GPU positions are
nearly free, so there it splits almost never). Generation's prefill stays one pass: `generate`
needs every row in one cache.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from harness.backends.kept_kv import Kept, Layers
from harness.backends.prefix_tree import Plan, Ref, length_groups

CPU_PASS_COST = 18  # token positions a forward pass costs beyond its positions, on a CPU (measured, see above)
GPU_PASS_COST = 512  # on a GPU: split only where padding would more than double a pass


@dataclass
class Past:
    """Rows of computed tokens: their cache, attention mask and token ids (pads where the mask is 0)."""

    cache: Any  # transformers DynamicCache (or None: no rows computed yet)
    mask: Any  # (rows, T) long
    ids: Any  # (rows, T) long


@dataclass
class Leaves:
    """What a batch still computes: each prompt's own span, and the rows of what comes before it for any
    subset of the prompts (`past(rows)`)."""

    spans: list[list[int]]
    past: Callable[[list[int]], Past]


class PrefixRunner:
    def __init__(self, model, pad_id: int, device, pass_cost: int | None = None) -> None:  # type: ignore[no-untyped-def]
        import torch

        self.torch, self.model, self.pad_id, self.device = torch, model, pad_id, device
        self.pass_cost = pass_cost if pass_cost is not None else (
            CPU_PASS_COST if str(device).startswith("cpu") else GPU_PASS_COST)

    def tree(self, prompts: list[list[int]], plan: Plan) -> Leaves:
        """Run the plan's internal levels; the leaves (each prompt's own suffix) are left to run."""
        sources: list[Past] = []  # the passes run so far
        where: dict[tuple[int, int], Ref] = {}  # (level, node) -> (pass, row) of the node's rows
        for lv, level in enumerate(plan.levels):
            spans = [prompts[n.rows[0]][n.start:n.end] for n, _ in level]
            for group in length_groups([len(s) for s in spans], self.pass_cost):
                parents = [where[(ref.level, ref.row)] if ref else None for _, ref in (level[i] for i in group)]
                done, _ = self._step([spans[i] for i in group], self._gather(sources, parents))
                sources.append(done)
                where.update({(lv, i): Ref(len(sources) - 1, k) for k, i in enumerate(group)})
        refs = [where[(ref.level, ref.row)] if ref else None for _, ref in plan.leaves]
        return Leaves([prompts[n.rows[0]][n.start:n.end] for n, _ in plan.leaves],
                      lambda rows: self._gather(sources, [refs[i] for i in rows]))

    def on_kept(self, prompts: list[list[int]], reuse: list[tuple[Kept, int]]) -> Leaves:
        """Prompts that extend kept caches (each prompt's kept cache and n: its first n tokens are cached)."""
        return Leaves([p[n:] for p, (_, n) in zip(prompts, reuse)],
                      lambda rows: self._past_of([reuse[i] for i in rows]))

    def last_logits(self, leaves: Leaves, keep: Sequence[int] = ()):  # type: ignore[no-untyped-def]
        """Every prompt's last-position logits (rows in prompt order), and the rows of the prompts `keep` names
        without padding ({prompt: (token ids, layers)})."""
        logits: list[Any] = [None] * len(leaves.spans)
        kept: dict[int, tuple[list[int], Layers]] = {}
        for group in length_groups([len(s) for s in leaves.spans], self.pass_cost):
            done, out = self._step([leaves.spans[i] for i in group], leaves.past(group))
            for k, i in enumerate(group):
                logits[i] = out[k]
                if i in keep:
                    kept[i] = self._row(done, k)
        return self.torch.stack(logits), kept

    def prefill(self, leaves: Leaves, keep: Sequence[int] = ()):  # type: ignore[no-untyped-def]
        """(ids, mask, cache, kept) for `generate`: every prompt laid out in one row, the cache holding all but
        the last column (generate computes that one and goes on); `kept` as in last_logits, without the
        prompt's last token."""
        torch = self.torch
        rows = list(range(len(leaves.spans)))
        past = leaves.past(rows)
        ids, mask = self._pad(leaves.spans)
        if ids.shape[1] > 1:
            past, _ = self._step([s[:-1] for s in leaves.spans], past, width=ids.shape[1] - 1)
        kept = {i: self._row(past, i) for i in keep}  # copied out before generate appends to the cache
        return torch.cat([past.ids, ids[:, -1:]], 1), torch.cat([past.mask, mask[:, -1:]], 1), past.cache, kept

    def _row(self, past: Past, row: int) -> tuple[list[int], Layers]:
        """One row of `past` without its padding."""
        cols = past.mask[row].nonzero().squeeze(-1)
        layers = [(layer.keys[row][:, cols].clone(), layer.values[row][:, cols].clone())
                  for layer in past.cache.layers] if past.cache is not None else []
        return past.ids[row, cols].tolist(), layers

    def _past_of(self, kept: list[tuple[Kept, int]]) -> Past:
        """Rows built from kept caches, each cut to its first n tokens, left-padded (masked) to the longest."""
        from transformers import DynamicCache

        torch = self.torch
        width = max(n for _, n in kept)
        mask = torch.zeros((len(kept), width), dtype=torch.long, device=self.device)
        ids = torch.full((len(kept), width), self.pad_id, dtype=torch.long, device=self.device)
        first = kept[0][0].layers
        keys = [k.new_zeros((len(kept), k.shape[0], width, k.shape[2])) for k, _ in first]
        values = [v.new_zeros((len(kept), v.shape[0], width, v.shape[2])) for _, v in first]
        for row, (entry, n) in enumerate(kept):
            mask[row, width - n:] = 1
            ids[row, width - n:] = torch.tensor(entry.ids[:n], device=self.device)
            for i, (k, v) in enumerate(entry.layers):
                keys[i][row, :, width - n:] = k[:, :n]
                values[i][row, :, width - n:] = v[:, :n]
        return Past(DynamicCache(ddp_cache_data=list(zip(keys, values)), config=self.model.config), mask, ids)

    def _pad(self, spans: list[list[int]], width: int | None = None):  # type: ignore[no-untyped-def]
        torch = self.torch
        width = max(len(s) for s in spans) if width is None else width
        ids = torch.full((len(spans), width), self.pad_id, dtype=torch.long)
        mask = torch.zeros((len(spans), width), dtype=torch.long)
        for row, s in enumerate(spans):
            if s:
                ids[row, width - len(s):] = torch.tensor(s)
                mask[row, width - len(s):] = 1
        return ids.to(self.device), mask.to(self.device)

    def _step(self, spans: list[list[int]], past: Past, width: int | None = None):  # type: ignore[no-untyped-def]
        """One forward pass of left-padded `spans` on `past`: (the rows with them appended, last logits)."""
        from transformers import DynamicCache

        torch = self.torch
        ids, mask = self._pad(spans, width)
        full = torch.cat([past.mask, mask], 1)
        positions = (full.cumsum(-1) - 1).clamp(min=0)[:, -ids.shape[1]:]
        cache = past.cache if past.cache is not None else DynamicCache(config=self.model.config)
        out = self.model(input_ids=ids, attention_mask=full, position_ids=positions, past_key_values=cache,
                         use_cache=True, logits_to_keep=1)
        return Past(out.past_key_values, full, torch.cat([past.ids, ids], 1)), out.logits[:, -1, :]

    def _gather(self, sources: list[Past], refs: list[Ref | None]) -> Past:
        """Row i is the row refs[i] points to (pass, row), left-padded (masked) to the longest; None: an empty
        past."""
        from transformers import DynamicCache

        torch = self.torch
        used = sorted({r.level for r in refs if r is not None})
        width = max((sources[s].mask.shape[1] for s in used), default=0)
        mask = torch.zeros((len(refs), width), dtype=torch.long, device=self.device)
        ids = torch.full((len(refs), width), self.pad_id, dtype=torch.long, device=self.device)
        if not used:
            return Past(None, mask, ids)
        layers = [(layer.keys, layer.values) for layer in sources[used[0]].cache.layers]
        keys = [k.new_zeros((len(refs), k.shape[1], width, k.shape[3])) for k, _ in layers]
        values = [v.new_zeros((len(refs), v.shape[1], width, v.shape[3])) for _, v in layers]
        for s in used:
            dest = [i for i, r in enumerate(refs) if r is not None and r.level == s]
            src = torch.tensor([refs[i].row for i in dest], device=self.device)  # type: ignore[union-attr]
            at = torch.tensor(dest, device=self.device)
            t = sources[s].mask.shape[1]
            mask[at, width - t:] = sources[s].mask[src]
            ids[at, width - t:] = sources[s].ids[src]
            for n, layer in enumerate(sources[s].cache.layers):
                keys[n][at, :, width - t:] = layer.keys[src]
                values[n][at, :, width - t:] = layer.values[src]
        cache = DynamicCache(ddp_cache_data=list(zip(keys, values)), config=self.model.config)
        return Past(cache, mask, ids)
