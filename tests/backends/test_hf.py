"""The transformers backend: computing a batch's shared prompt prefix once changes no answer."""

import pytest

from harness.backends.hf import HFBackend, shared_prefix
from harness.backends.models import resolve_model
from harness.data import load_items
from harness.plan import plan
from harness.spec import load_task
from harness.variants import make_variants
from tests.conftest import ROOT


def test_shared_prefix_leaves_every_prompt_a_token():
    assert shared_prefix([[1, 2, 3, 4], [1, 2, 3, 5, 6]]) == 3
    assert shared_prefix([[1, 2], [1, 2, 3]]) == 1  # the shorter prompt keeps its last token
    assert shared_prefix([[1, 2, 3]]) == 0 and shared_prefix([[1], [2]]) == 0


@pytest.mark.integration
def test_prefix_sharing_gives_the_same_log_probs(embedded_backend):
    task = load_task(ROOT / "tasks" / "sycophancy.yaml")  # neutral and pressured prompts: varied lengths
    requests = [r for r in plan(task, make_variants(task, load_items(task)[:3]), seed=0).unique if not r.generate]
    plain = HFBackend(resolve_model(None), dtype="float32", batch_size=8, share_prefix=False).run(requests)
    shared = embedded_backend.run(requests)  # float32, batch size 4, prefix sharing on (the default)
    assert embedded_backend.share_prefix and len(requests) >= 12
    for a, b in zip(plain, shared):
        assert b.candidate_logprobs == pytest.approx(a.candidate_logprobs, abs=1e-3)
        assert max(a.candidate_logprobs, key=a.candidate_logprobs.get) == \
            max(b.candidate_logprobs, key=b.candidate_logprobs.get)
        assert a.prompt_tokens == b.prompt_tokens
