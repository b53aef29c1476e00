"""The transformers backend: computing a batch's shared prompt prefix once changes no answer."""

import pytest

from harness.backends.hf import HFBackend
from harness.backends.models import resolve_model
from harness.config.task import load_task
from harness.data.items import load_items
from harness.pipeline.plan import plan
from harness.variants.build import make_variants
from tests.conftest import ROOT


@pytest.mark.integration
def test_prefix_sharing_gives_the_same_log_probs(embedded_backend):
    task = load_task(ROOT / "tasks" / "sycophancy.yaml")  # neutral and pressured prompts: varied lengths
    requests = [r for r in plan(task, make_variants(task, load_items(task)[:3]), seed=0).unique if not r.generate]
    plain = HFBackend(resolve_model(None), dtype="float32", batch_size=8, prefix_sharing=False).run(requests)
    shared = embedded_backend.run(requests)  # float32, batch size 4, prefix sharing on (the default)
    assert embedded_backend.prefix_sharing and len(requests) >= 12
    for a, b in zip(plain, shared):
        assert b.candidate_logprobs == pytest.approx(a.candidate_logprobs, abs=1e-3)
        assert max(a.candidate_logprobs, key=a.candidate_logprobs.get) == \
            max(b.candidate_logprobs, key=b.candidate_logprobs.get)
        assert a.prompt_tokens == b.prompt_tokens


@pytest.mark.integration
@pytest.mark.parametrize("sharing", [True, False])
def test_batches_hold_to_the_prompt_and_token_limits_and_change_no_answer(embedded_backend, monkeypatch, sharing):
    from harness.backends.prompting import encode_prompt

    task = load_task(ROOT / "tasks" / "sycophancy.yaml")
    requests = [r for r in plan(task, make_variants(task, load_items(task)[:3]), seed=0).unique if not r.generate]
    length = {r.key: len(encode_prompt(embedded_backend.tokenizer, r)) for r in requests}
    monkeypatch.setattr(embedded_backend, "prefix_sharing", sharing)
    before = embedded_backend.run(requests)  # batch size 4, the default token budget
    seen: list[list[int]] = []
    forward = embedded_backend._forward

    def spy(batch, reqs, prompts, reuse=None):  # type: ignore[no-untyped-def]
        seen.append([length[reqs[i].key] for i in batch])
        return forward(batch, reqs, prompts, reuse)

    monkeypatch.setattr(embedded_backend, "_forward", spy)
    budget = 6 * max(length.values()) - 1  # five of the longest, six of the shorter ones
    monkeypatch.setattr(embedded_backend, "batch_size", 64)
    monkeypatch.setattr(embedded_backend, "batch_tokens", budget)
    after = embedded_backend.run(requests)
    assert sum(map(len, seen)) == len(requests) and max(map(len, seen)) > 4  # past the fixture's 4
    assert all(len(b) * max(b) <= budget for b in seen)
    for a, b in zip(before, after):
        assert b.candidate_logprobs == pytest.approx(a.candidate_logprobs, abs=1e-4)


def test_fit_context_refuses_or_truncates_from_the_left():
    from harness.backends.base import Message, Request
    from harness.backends.prompting import fit_context
    from harness.core.errors import HarnessError

    ask = Request(messages=(Message(role="user", content="why " * 50),), generate=False, candidates=("A",))
    assert fit_context(list(range(10)), ask, 11) == list(range(10))  # 10 prompt tokens + 1 to score
    with pytest.raises(HarnessError, match="does not fit the model's context of 10 tokens.*prompt.truncate: left"):
        fit_context(list(range(10)), ask, 10)
    left = ask.model_copy(update={"truncate": "left"})
    assert fit_context(list(range(10)), left, 8) == [3, 4, 5, 6, 7, 8, 9]  # the end of the prompt is kept
    generate = left.model_copy(update={"generate": True})  # room for max_tokens (32) to generate
    assert fit_context(list(range(100)), generate, 40) == list(range(92, 100))
    with pytest.raises(HarnessError, match="plus 32 to generate"):
        fit_context(list(range(100)), generate, 32)  # nothing of the prompt would be left


def test_truncation_joins_the_request_key_only_when_asked():
    import hashlib
    import json

    from harness.backends.base import Message, Request

    plain = Request(messages=(Message(role="user", content="Q?"),), generate=False, candidates=("A", "B"))
    fields = {k: v for k, v in json.loads(plain.model_dump_json()).items() if k != "truncate"}
    old = hashlib.sha256(json.dumps(fields, separators=(",", ":"), ensure_ascii=False).encode()).hexdigest()
    assert plain.key == old  # caches written before `truncate` existed stay valid
    assert plain.model_copy(update={"truncate": "left"}).key != plain.key


@pytest.mark.integration
def test_a_truncated_run_records_what_it_dropped(tmp_path, make_task):
    from harness.pipeline.runner import RunOptions, run_task
    from tests.conftest import ROWS, task_yaml

    rows = [dict(ROWS[0], question="Why? " * 400 + "Capital of France?")] + ROWS[1:]
    path = make_task(rows, task_yaml(prompt=f"prompt:\n  template: {ROOT / 'prompts/mc/question.j2'}\n"
                                            "  truncate: left"))
    backend = HFBackend(resolve_model(None), dtype="float32", batch_size=4)
    backend.model.config.max_position_embeddings = 256  # a small context, so the long row needs cutting
    result = run_task(load_task(path), backend, RunOptions(bootstrap_resamples=50), tmp_path / "run")
    import json

    samples = [json.loads(x) for x in (tmp_path / "run" / "samples.jsonl").read_text().splitlines()]
    assert result.counts.truncated == 1
    assert samples[0]["prompt_truncated"] > 300 and samples[0]["prompt_tokens"] == 255  # 255 + 1 scored = 256
    assert [s["prompt_truncated"] for s in samples[1:]] == [0, 0]
    assert samples[0]["predicted"] in "ABCD"
