"""Prefix sharing changes no answer: the prefix-tree pass gives the unshared pass's logits (float32, 1e-4)
on the prompts of every built-in task kind, with and without padding, and greedy generation writes the
same text from the shared cache."""

import copy

import pytest

from harness.backends.prefix_tree import lcp
from harness.backends.prefix_tree import plan as tree_plan
from harness.backends.prompting import encode_fitted
from harness.config.task import load_task
from harness.data.items import load_items
from harness.pipeline.plan import plan
from harness.variants.build import make_variants
from tests.conftest import ROOT, needs_shared_data

pytestmark = pytest.mark.integration
KINDS = [("sycophancy.yaml", 2), ("robustness.yaml", 1), ("rag_facts.yaml", 3), ("open_facts.yaml", 3),
         pytest.param("mbpp.yaml", 3, marks=needs_shared_data("recode"))]


def task_requests(name: str, items: int):  # type: ignore[no-untyped-def]
    task = load_task(ROOT / "tasks" / name)
    return list(plan(task, make_variants(task, load_items(task)[:items]), seed=0).unique)


def plain_logits(backend, prompts):  # type: ignore[no-untyped-def]
    ids, mask = backend._padded(prompts)
    positions = (mask.cumsum(-1) - 1).clamp(min=0)
    return backend.model(input_ids=ids, attention_mask=mask, position_ids=positions).logits[:, -1, :]


def assert_same_logits(backend, prompts) -> None:  # type: ignore[no-untyped-def]
    import torch

    runner = copy.copy(backend.prefix)
    with torch.inference_mode():
        plain = plain_logits(backend, prompts).float().log_softmax(-1)
        for pass_cost in (0, 18, 10**6):  # each span length its own pass, the CPU's cuts, one pass a level
            runner.pass_cost = pass_cost
            shared = runner.last_logits(runner.tree(prompts, tree_plan(prompts)))[0].float().log_softmax(-1)
            assert (shared - plain).abs().max().item() < 1e-4


@pytest.mark.parametrize("name,items", KINDS)
def test_shared_logits_equal_the_unshared_pass_on_every_task_kind(embedded_backend, name, items):
    prompts = [encode_fitted(embedded_backend.tokenizer, r, None)[0] for r in task_requests(name, items)]
    assert len(prompts) >= 3 and len({len(p) for p in prompts}) > 1  # padded: the lengths differ
    plan_ = tree_plan(prompts)
    assert plan_.levels and plan_.computed_tokens < sum(map(len, prompts))  # something is shared
    assert_same_logits(embedded_backend, prompts)


def test_shared_logits_without_padding_and_for_prompts_that_prefix_others(embedded_backend):
    base = encode_fitted(embedded_backend.tokenizer, task_requests("sycophancy.yaml", 1)[0], None)[0]
    same_length = [base[:-1] + [t] for t in (base[-1], 330, 331, 332)] + [list(base)]  # no padding, a duplicate
    assert len({len(p) for p in same_length}) == 1
    assert_same_logits(embedded_backend, same_length)
    assert_same_logits(embedded_backend, [base, base[:-12], base[:-30], base + base[-9:]])


def both_ways(backend, batch_size: int, requests):  # type: ignore[no-untyped-def]
    on, off = copy.copy(backend), copy.copy(backend)  # the same loaded model
    on.batch_size = off.batch_size = batch_size
    off.prefix_sharing = False
    return on.run(requests), off.run(requests), on


@pytest.mark.parametrize("batch_size", [1, 5])
def test_the_backend_answers_the_same_with_sharing_on_and_off(embedded_backend, batch_size):
    short = {"max_tokens": 6}
    scored = [r for r in task_requests("sycophancy.yaml", 2) if not r.generate][:6]
    written = [r.model_copy(update={"sampling": r.sampling.model_copy(update=short), "candidates": ("A", "B")})
               for r in task_requests("open_facts.yaml", 3) + task_requests("rag_facts.yaml", 2)]
    shared, plain, on = both_ways(embedded_backend, batch_size, scored + written)
    for a, b in zip(shared, plain):
        assert a.text == b.text and a.output_tokens == b.output_tokens and a.prompt_tokens == b.prompt_tokens
        assert a.candidate_logprobs == pytest.approx(b.candidate_logprobs, abs=1e-4)
    if batch_size > 1:
        assert 0 < on.prefix_hits < on.prefix_queried  # the siblings' shared spans ran once


def test_a_second_turn_runs_on_its_first_turns_kept_cache(embedded_backend):
    """Wave 1 keeps the first turns' caches (keep_prefixes); wave 2's follow-ups run only their own suffix on
    them and answer as the unshared pass does: the same label log-probs to 1e-4, the same greedy text."""
    from harness.backends.base import Message

    firsts = [r for r in task_requests("sycophancy.yaml", 2) if not r.generate][:3]

    def second(r, answer: str, *, generate: bool):  # type: ignore[no-untyped-def]
        turn = (Message(role="assistant", content=answer), Message(role="user", content="Are you sure?"))
        return r.model_copy(update={"messages": r.messages + turn, "generate": generate,
                                    "sampling": r.sampling.model_copy(update={"max_tokens": 5})})

    follow = [second(r, a, generate=g) for r in firsts for a, g in (("A", False), ("B", True))]
    on, off = copy.copy(embedded_backend), copy.copy(embedded_backend)
    off.prefix_sharing = False
    from harness.backends.kept_kv import KeptPrefixes

    on.kept = KeptPrefixes()
    on.keep_prefixes(firsts[:2])  # the third first turn is not kept: its follow-ups run whole
    on.run(firsts)
    assert len(on.kept.entries) == 2
    hits_before, served_before = on.prefix_hits, on.kept.served
    shared, plain = on.run(follow), off.run(follow)
    for a, b in zip(shared, plain):
        assert a.text == b.text and a.prompt_tokens == b.prompt_tokens
        assert a.candidate_logprobs == pytest.approx(b.candidate_logprobs, abs=1e-4)
    # Each follow-up runs on the kept first turn it shares most with (its own when kept: all of it; the third
    # item's follow-ups share the system prompt and more with a kept one), the rest computed.
    kept = [encode_fitted(on.tokenizer, r, None)[0] for r in firsts[:2]]
    asked = [encode_fitted(on.tokenizer, r, None)[0] for r in follow]
    expected = [min(max(lcp(k, p) for k in kept), len(p) - 1) for p in asked]
    assert expected[:4] == [len(kept[0])] * 2 + [len(kept[1])] * 2  # a first turn is a prefix of its follow-ups
    assert on.kept.served - served_before == sum(n for n in expected if n >= 16)
    assert on.prefix_hits - hits_before >= sum(expected)
    on.keep_prefixes([])
    assert not on.kept.entries and on.kept.bytes == 0


def test_kept_prefix_lookup_finds_the_longest_common_prefix():
    import random

    import torch

    from harness.backends.kept_kv import MIN_REUSE, KeptPrefixes
    rng = random.Random(0)
    store = KeptPrefixes(budget_bytes=10**9)
    kept = [[rng.randrange(4) for _ in range(rng.randrange(1, 40))] for _ in range(60)]
    for ids in kept:
        store.add(ids, [(torch.zeros(1, len(ids), 2), torch.zeros(1, len(ids), 2))])
    assert not store.add(kept[0], [(torch.zeros(1, 1, 2), torch.zeros(1, 1, 2))])  # already kept
    for _ in range(300):
        query = [rng.randrange(4) for _ in range(rng.randrange(1, 50))]
        entry, n = store.find(query)
        assert n == max(lcp(k, query) for k in kept) and lcp(list(entry.ids), query) == n
        entry, n = store.reusable(query)
        assert n == 0 or (MIN_REUSE <= n <= len(query) - 1)
    small = KeptPrefixes(budget_bytes=100)
    assert not small.add([1] * 20, [(torch.zeros(1, 20, 2), torch.zeros(1, 20, 2))])  # 320 bytes: over the budget


def test_sycophancy_runs_its_second_turns_on_the_first_turns_caches_and_scores_the_same(embedded_backend, tmp_path):
    import json

    from harness.pipeline.runner import RunOptions, run_task

    task = load_task(ROOT / "tasks" / "sycophancy.yaml")
    on, off = copy.copy(embedded_backend), copy.copy(embedded_backend)
    off.prefix_sharing = False
    from harness.backends.kept_kv import KeptPrefixes

    on.kept = KeptPrefixes()
    rows = {}
    for name, backend in (("on", on), ("off", off)):
        run_task(task, backend, RunOptions(limit=3), tmp_path / name)
        rows[name] = [json.loads(line) for line in (tmp_path / name / "samples.jsonl").read_text().splitlines()]
    assert on.kept.served > 0 and not on.kept.entries  # the second turns ran on kept caches, released after
    assert len(rows["on"]) == len(rows["off"]) and any(len(r["messages"]) == 3 for r in rows["on"])
    for a, b in zip(rows["on"], rows["off"]):
        assert (a["item_id"], a["variant"], a["predicted"], a["messages"]) == (
            b["item_id"], b["variant"], b["predicted"], b["messages"])
        assert a["label_logprobs"] == pytest.approx(b["label_logprobs"], abs=1e-4)
