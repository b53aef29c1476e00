"""Prefix sharing changes no answer: the prefix-tree pass gives the unshared pass's logits (float32, 1e-4)
on the prompts of every built-in task kind, with and without padding, and greedy generation writes the
same text from the shared cache."""

import copy

import pytest

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

    with torch.inference_mode():
        shared = backend.prefix.last_logits(prompts, tree_plan(prompts)).float().log_softmax(-1)
        plain = plain_logits(backend, prompts).float().log_softmax(-1)
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
