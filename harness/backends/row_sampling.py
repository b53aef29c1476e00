"""Sampling with one random generator per request, so a draw does not depend on its batch.

`torch.manual_seed` before `generate` seeds one stream for the whole batch: which tokens a request
draws then depends on the other rows and on the batch size, and a request answered again alone
(a cache miss, a resumed run) draws differently. Here each row has its own `torch.Generator`,
seeded from the request (its key, which holds `Sampling.seed`, so sample i of n is a request of
its own and is cached as such); the row's token is drawn from the temperature- and top-p-shaped
distribution and every other token is masked, so greedy decoding emits exactly that draw. The
draws are reproducible to the logits' float rounding (left padding changes them in the last
bits, which can flip a draw at a near-tie).
"""

from __future__ import annotations

from collections.abc import Sequence


def row_seed(key: str) -> int:
    """A 63-bit generator seed from a request key (a sha256 hex digest)."""
    return int(key[:16], 16) >> 1


class RowSampler:
    """A transformers logits processor that samples each row with its own generator."""

    def __init__(self, seeds: Sequence[int], temperature: float, top_p: float, device: str) -> None:
        import torch

        self.torch = torch
        self.temperature = temperature
        self.top_p = top_p
        self.generators = [torch.Generator(device=device).manual_seed(s) for s in seeds]

    def __call__(self, input_ids, scores):  # type: ignore[no-untyped-def]
        torch = self.torch
        logits = scores.float() / self.temperature
        if self.top_p < 1.0:  # keep the smallest set of tokens holding top_p of the mass (never empty)
            ordered, order = logits.sort(dim=-1, descending=True)
            probs = ordered.softmax(-1)
            ordered = ordered.masked_fill(probs.cumsum(-1) - probs > self.top_p, float("-inf"))
            logits = torch.full_like(logits, float("-inf")).scatter(-1, order, ordered)
        probs = logits.softmax(-1)
        chosen = torch.stack([torch.multinomial(probs[row], 1, generator=g) for row, g in enumerate(self.generators)])
        return torch.full_like(scores, float("-inf")).scatter(-1, chosen, 0.0)
