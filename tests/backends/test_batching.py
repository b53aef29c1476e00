"""How a wave of requests is cut into batches: at most `size` prompts and `max_tokens` padded positions."""

import pytest

from harness.backends.batching import fitting, longest_first, sibling_batches
from harness.backends.prefix_tree import lcp

SYSTEM = list(range(100, 130))  # 30 shared tokens, like a system prompt and chat header


def item(q: int, arm: int) -> list[int]:
    return SYSTEM + [q] * 20 + [1000 + arm] * (3 + arm)  # one item's question (20 tokens) and an arm's suffix


def fits(prompts, batch, size, max_tokens) -> bool:  # type: ignore[no-untyped-def]
    return len(batch) == 1 or (len(batch) <= size and len(batch) * max(len(prompts[i]) for i in batch) <= max_tokens)


def test_batches_keep_siblings_together_where_they_fit():
    prompts = [item(q, arm) for q in range(5) for arm in range(3)]
    order = sorted(range(len(prompts)), key=lambda i: prompts[i])
    batches = sibling_batches(prompts, order, 8)
    assert sum(map(len, batches)) == 15 and all(len(b) <= 8 for b in batches)
    for b in batches:  # each batch holds whole items (3 arms each), cut where neighbours share only the system
        assert len({prompts[i][30] for i in b}) * 3 == len(b)
    assert lcp([1, 2, 3], [1, 2, 4]) == 2 and sibling_batches(prompts, order, 100) == [order]


def test_the_token_budget_cuts_as_the_row_limit_would_for_prompts_of_one_length():
    prompts = [item(q, arm) for q in range(5) for arm in range(3)]  # 53-55 tokens
    order = sorted(range(len(prompts)), key=lambda i: prompts[i])
    by_tokens = sibling_batches(prompts, order, 100, max_tokens=8 * 55)
    assert all(fits(prompts, b, 100, 8 * 55) for b in by_tokens) and max(map(len, by_tokens)) == 6
    for b in by_tokens:  # still whole items
        assert len({prompts[i][30] for i in b}) * 3 == len(b)


@pytest.mark.parametrize("cut", [sibling_batches, longest_first])
def test_every_batch_fits_and_every_prompt_is_in_exactly_one(cut):
    lengths = [5, 300, 12, 12, 80, 2000, 7, 7, 7, 40, 41, 900, 3, 64, 64, 64]
    prompts = [[i % 7] * n for i, n in enumerate(lengths)]
    order = sorted(range(len(prompts)), key=lambda i: prompts[i])
    for size, max_tokens in [(1, 10**6), (4, 10**6), (64, 256), (64, 1000), (3, 150)]:
        batches = cut(prompts, order, size, max_tokens)
        assert sorted(i for b in batches for i in b) == list(range(len(prompts)))
        assert all(fits(prompts, b, size, max_tokens) for b in batches), (size, max_tokens, batches)
    alone = cut(prompts, order, 64, 1000)
    assert [5] in alone  # longer than the budget: a batch of its own


def test_longest_first_fills_each_batch_as_far_as_the_budget_allows():
    prompts = [[1] * n for n in [10, 100, 10, 10, 50, 10]]
    assert longest_first(prompts, list(range(6)), 64, 200) == [[1, 4], [0, 2, 3, 5]]  # 2 x 100 fits 200
    assert longest_first(prompts, list(range(6)), 64, 199) == [[1], [4, 0, 2], [3, 5]]
    assert longest_first(prompts, list(range(6)), 2, 10**6) == [[1, 4], [0, 2], [3, 5]]


def test_fitting_takes_at_least_one_prompt():
    assert fitting([500, 1], 0, 8, 100) == 1
    assert fitting([1, 1, 1, 500], 0, 8, 100) == 3
    assert fitting([3, 3, 3], 1, 8, 100) == 3
