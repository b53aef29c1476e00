"""The prefix tree over a batch's token ids: what runs once and what each prompt keeps."""

from harness.backends.prefix_tree import build_tree, plan

SYSTEM = list(range(100, 130))  # 30 shared tokens, like a system prompt and chat header


def item(q: int, arm: int) -> list[int]:
    return SYSTEM + [q] * 20 + [1000 + arm] * (3 + arm)  # one item's question (20 tokens) and an arm's suffix


def test_an_items_arms_share_its_question_and_the_batch_shares_the_system_prompt():
    prompts = [item(q, arm) for q in (1, 2) for arm in range(3)]
    root = build_tree(prompts)
    assert (root.start, root.end) == (0, 30) and len(root.children) == 2
    for child, rows in zip(root.children, ([0, 1, 2], [3, 4, 5])):
        assert (child.start, child.end, child.rows) == (30, 50, rows)
        assert [(leaf.start, leaf.end) for leaf in child.children] == [(50, 53), (50, 54), (50, 55)]
    p = plan(prompts)
    assert [len(level) for level in p.levels] == [1, 2]
    assert [leaf.rows for leaf, _ in p.leaves] == [[i] for i in range(6)]
    assert p.computed_tokens == 30 + 2 * 20 + 2 * (3 + 4 + 5)
    assert p.leaves[4][1].level == 1 and p.leaves[4][1].row == 1  # prompt 4's past: the second item's question


def test_every_prompt_keeps_its_last_token_even_when_it_prefixes_another():
    short, long = SYSTEM + [7] * 10, SYSTEM + [7] * 10 + [8] * 5
    p = plan([long, short, long])  # duplicates too
    ends = {leaf.rows[0]: (leaf.start, leaf.end) for leaf, _ in p.leaves}
    assert ends[1][1] == len(short) and ends[1][0] < len(short)
    assert ends[0][1] == ends[2][1] == len(long) and ends[0][0] < len(long)
    for leaf, ref in p.leaves:  # a leaf plus its ancestors' spans cover its whole prompt
        covered = leaf.end - leaf.start
        while ref is not None:
            node, ref = p.levels[ref.level][ref.row]
            covered += node.end - node.start
        assert covered == len([long, short, long][leaf.rows[0]])


def test_a_span_that_saves_little_is_handed_down_and_unrelated_prompts_run_whole():
    p = plan([[1, 2, 3, 4], [1, 2, 3, 5, 6]])  # 3 shared tokens save 3 positions: not worth a pass
    assert p.levels == [] and [(leaf.start, leaf.end) for leaf, _ in p.leaves] == [(0, 4), (0, 5)]
    assert plan([[5]]).computed_tokens == 1 and plan([[1, 2], [3, 4]]).levels == []


def _partitions(items):  # type: ignore[no-untyped-def]
    if not items:
        yield []
        return
    first, rest = items[0], items[1:]
    for part in _partitions(rest):
        yield [[first]] + part
        for k in range(len(part)):
            yield part[:k] + [[first] + part[k]] + part[k + 1:]


def test_length_groups_is_the_cheapest_way_to_cut_spans_into_passes():
    import random

    from harness.backends.prefix_tree import length_groups

    def cost(groups, lengths, pass_cost):  # type: ignore[no-untyped-def]
        return sum(len(g) * max(lengths[i] for i in g) + pass_cost for g in groups)

    rng = random.Random(3)
    for _ in range(60):
        lengths = [rng.randrange(1, 60) for _ in range(rng.randrange(1, 7))]
        pass_cost = rng.choice([0, 5, 18, 500])
        groups = length_groups(lengths, pass_cost)
        assert sorted(i for g in groups for i in g) == list(range(len(lengths)))
        best = min(cost(p, lengths, pass_cost) for p in _partitions(list(range(len(lengths)))))
        assert cost(groups, lengths, pass_cost) == best
    assert length_groups([37, 36, 10, 9], 18) == [[0, 1], [2, 3]]  # the padding saved beats a pass
    assert length_groups([37, 36, 10, 9], 512) == [[0, 1, 2, 3]]  # a GPU's pass cost: one pass
