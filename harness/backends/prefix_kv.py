"""Run a prefix-tree plan (prefix_tree.py) through a transformers model with key/value caches.

Each internal level is one forward pass: every node's span, left-padded to the level's width,
attends to its parent's cache (rows gathered from the level above). The leaves then run as one
batch on their parents' caches, aligned to one length by left padding (masked out). Positions
come from the attention mask, so every token sits where it sits in the unshared left-padded
batch: the logits are the same to float rounding (tests/backends/test_prefix_kv.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from harness.backends.prefix_tree import Plan, Ref


@dataclass
class Past:
    """Rows of computed tokens: their cache, attention mask and token ids (pads where the mask is 0)."""

    cache: Any  # transformers DynamicCache (or None: no rows computed yet)
    mask: Any  # (rows, T) long
    ids: Any  # (rows, T) long


class PrefixRunner:
    def __init__(self, model, pad_id: int, device) -> None:  # type: ignore[no-untyped-def]
        import torch

        self.torch, self.model, self.pad_id, self.device = torch, model, pad_id, device

    def last_logits(self, prompts: list[list[int]], plan: Plan):  # type: ignore[no-untyped-def]
        """Last-position logits of every prompt (rows in prompt order)."""
        return self.logits_on(*self.leaves(prompts, plan))[1]

    def prefill(self, prompts: list[list[int]], plan: Plan):  # type: ignore[no-untyped-def]
        """(ids, mask, cache) for `generate`: every prompt laid out in one row, the cache holding all but
        the last column (generate computes that one and goes on)."""
        return self.prefill_on(*self.leaves(prompts, plan))[:3]

    def leaves(self, prompts: list[list[int]], plan: Plan) -> tuple[list[list[int]], Past]:
        """Every prompt's own suffix (its leaf span) and the rows of everything before it."""
        return [prompts[n.rows[0]][n.start:n.end] for n, _ in plan.leaves], self._leaf_past(prompts, plan)

    def logits_on(self, spans: list[list[int]], past: Past):  # type: ignore[no-untyped-def]
        """(the rows with `spans` appended, each row's last logits)."""
        return self._step(spans, past)

    def prefill_on(self, spans: list[list[int]], past: Past):  # type: ignore[no-untyped-def]
        """(ids, mask, cache, rows before each span's last token) for `generate`, `spans` run on `past`."""
        torch = self.torch
        ids, mask = self._pad(spans)
        if ids.shape[1] > 1:
            past, _ = self._step([s[:-1] for s in spans], past, width=ids.shape[1] - 1)
        return torch.cat([past.ids, ids[:, -1:]], 1), torch.cat([past.mask, mask[:, -1:]], 1), past.cache, past

    def rows(self, past: Past, which: list[int]) -> list[tuple[list[int], list[tuple[Any, Any]]]]:
        """Rows of `past` without their padding: (token ids, per layer (keys, values) of (heads, tokens, dim))."""
        out = []
        for row in which:
            cols = past.mask[row].nonzero().squeeze(-1)
            layers = [(layer.keys[row][:, cols].clone(), layer.values[row][:, cols].clone())
                      for layer in past.cache.layers] if past.cache is not None else []
            out.append((past.ids[row, cols].tolist(), layers))
        return out

    def past_of(self, kept: list[tuple[list[int], list[tuple[Any, Any]], int]]) -> Past:
        """Rows built from kept caches ((token ids, layers, n) each, cut to its first n tokens), left-padded
        (masked) to the longest."""
        from transformers import DynamicCache

        torch = self.torch
        width = max(n for _, _, n in kept)
        mask = torch.zeros((len(kept), width), dtype=torch.long, device=self.device)
        ids = torch.full((len(kept), width), self.pad_id, dtype=torch.long, device=self.device)
        first = kept[0][1]
        keys = [k.new_zeros((len(kept), k.shape[0], width, k.shape[2])) for k, _ in first]
        values = [v.new_zeros((len(kept), v.shape[0], width, v.shape[2])) for _, v in first]
        for row, (tokens, layers, n) in enumerate(kept):
            mask[row, width - n:] = 1
            ids[row, width - n:] = torch.tensor(list(tokens[:n]), device=self.device)
            for i, (k, v) in enumerate(layers):
                keys[i][row, :, width - n:] = k[:, :n]
                values[i][row, :, width - n:] = v[:, :n]
        return Past(DynamicCache(ddp_cache_data=list(zip(keys, values)), config=self.model.config), mask, ids)

    def _leaf_past(self, prompts: list[list[int]], plan: Plan) -> Past:
        levels: list[Past] = []
        for level in plan.levels:
            spans = [prompts[n.rows[0]][n.start:n.end] for n, _ in level]
            done, _ = self._step(spans, self._gather(levels, [ref for _, ref in level]))
            levels.append(done)
        return self._gather(levels, [ref for _, ref in plan.leaves])

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

    def _gather(self, levels: list[Past], refs: list[Ref | None]) -> Past:
        """Row i is the row refs[i] points to, left-padded (masked) to the longest; None: an empty past."""
        from transformers import DynamicCache

        torch = self.torch
        used = sorted({r.level for r in refs if r is not None})
        width = max((levels[lv].mask.shape[1] for lv in used), default=0)
        mask = torch.zeros((len(refs), width), dtype=torch.long, device=self.device)
        ids = torch.full((len(refs), width), self.pad_id, dtype=torch.long, device=self.device)
        if not used:
            return Past(None, mask, ids)
        layers = [(layer.keys, layer.values) for layer in levels[used[0]].cache.layers]
        keys = [k.new_zeros((len(refs), k.shape[1], width, k.shape[3])) for k, _ in layers]
        values = [v.new_zeros((len(refs), v.shape[1], width, v.shape[3])) for _, v in layers]
        for lv in used:
            dest = [i for i, r in enumerate(refs) if r is not None and r.level == lv]
            src = torch.tensor([refs[i].row for i in dest], device=self.device)  # type: ignore[union-attr]
            at = torch.tensor(dest, device=self.device)
            t = levels[lv].mask.shape[1]
            mask[at, width - t:] = levels[lv].mask[src]
            ids[at, width - t:] = levels[lv].ids[src]
            for n, layer in enumerate(levels[lv].cache.layers):
                keys[n][at, :, width - t:] = layer.keys[src]
                values[n][at, :, width - t:] = layer.values[src]
        cache = DynamicCache(ddp_cache_data=list(zip(keys, values)), config=self.model.config)
        return Past(cache, mask, ids)
