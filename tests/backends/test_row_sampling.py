"""Sampling draws one token per row from that row's own generator: a request draws the same alone or batched."""

from __future__ import annotations

import pytest
import torch

from harness.backends.base import Message, Request, Sampling
from harness.backends.row_sampling import RowSampler, row_seed


def _draws(seeds, scores, steps=20, **kw):
    out = []
    sampler = RowSampler(seeds, kw.get("temperature", 1.0), kw.get("top_p", 1.0), "cpu")
    for _ in range(steps):
        masked = sampler(None, scores)
        out.append(masked.argmax(-1).tolist())
        assert torch.isfinite(masked).sum(-1).tolist() == [1] * len(seeds)  # exactly one token left per row
    return [list(col) for col in zip(*out)]


def test_a_row_draws_the_same_whatever_else_is_in_the_batch():
    scores = torch.zeros(3, 50)
    alone = _draws([7], scores[:1])
    batched = _draws([11, 7, 13], scores)
    assert batched[1] == alone[0]
    assert batched[0] != batched[1]  # another seed, another stream (20 draws from 50 tokens)


def test_top_p_keeps_only_the_smallest_set_holding_that_mass():
    scores = torch.log(torch.tensor([[0.5, 0.3, 0.15, 0.05]]))
    drawn = {t for row in _draws(list(range(40)), scores.repeat(40, 1), steps=5, top_p=0.7) for t in row}
    assert drawn == {0, 1}  # 0.5 + 0.3 >= 0.7: tokens 2 and 3 are never drawn


def test_the_seed_is_part_of_the_request():
    def ask(seed: int) -> Request:
        return Request(messages=(Message(role="user", content="def f():"),),
                       sampling=Sampling(temperature=0.8, seed=seed, max_tokens=8))

    assert row_seed(ask(0).key) != row_seed(ask(1).key)
    assert row_seed(ask(1).key) == row_seed(ask(1).key) < 2**63


@pytest.mark.integration
def test_sampled_generation_is_reproducible_per_request(embedded_backend):
    def ask(prompt: str, seed: int) -> Request:
        return Request(messages=(Message(role="user", content=prompt),), chat_template="none",
                       sampling=Sampling(temperature=1.0, top_p=0.95, seed=seed, max_tokens=12))

    target = ask("def fibonacci(n):\n", 3)
    others = [ask("def add(a, b):\n", 1), ask("import os\n", 2), ask("def fibonacci(n):\n", 4)]
    alone = embedded_backend.run([target])[0].text
    batched = embedded_backend.run(others + [target])
    assert batched[-1].text == alone
    texts = {r.text for r in embedded_backend.run([ask("def fibonacci(n):\n", s) for s in range(6)])}
    assert len(texts) > 1  # different seeds draw different samples
    greedy = Request(messages=target.messages, chat_template="none", sampling=Sampling(max_tokens=12))
    assert embedded_backend.run([greedy])[0].text == embedded_backend.run([greedy, others[0]])[0].text
