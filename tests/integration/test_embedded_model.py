"""The real embedded model (SmolLM2-135M-Instruct) through the real transformers backend."""

import json

import pytest

from harness.backends.base import Message, Request
from harness.config.task import load_task
from harness.data.items import load_items
from harness.pipeline.plan import plan
from harness.pipeline.runner import RunOptions, run_task
from harness.results.io import read_result, read_samples
from harness.variants.build import make_variants
from tests.conftest import ROOT

pytestmark = pytest.mark.integration

QUESTION = ("Question: What is the capital of France?\nA. Berlin\nB. Madrid\nC. Paris\nD. Rome\n"
            "Answer with the letter of the correct option.\nAnswer:")


def test_one_pass_logprobs_match_generation_first_step(embedded_backend):
    msgs = (Message(role="user", content=QUESTION),)
    score_only, generated = embedded_backend.run([
        Request(messages=msgs, candidates=tuple("ABCD"), generate=False),
        Request(messages=msgs, candidates=tuple("ABCD"), generate=True),
    ])
    assert score_only.text is None and generated.text
    assert generated.output_tokens > 0 and generated.finish_reason in {"stop", "length"}
    for label in "ABCD":
        assert score_only.candidate_logprobs[label] == pytest.approx(generated.candidate_logprobs[label], abs=1e-3)
        assert score_only.candidate_logprobs[label] < 0


def test_plain_prompt_path_differs_from_chat_path(embedded_backend):
    msgs = (Message(role="user", content=QUESTION),)
    chat, plain = embedded_backend.run([
        Request(messages=msgs, candidates=tuple("ABCD"), generate=False, chat_template="auto"),
        Request(messages=msgs, candidates=tuple("ABCD"), generate=False, chat_template="none"),
    ])
    assert plain.prompt_tokens < chat.prompt_tokens  # no chat markup, no default system prompt
    assert chat.candidate_logprobs != plain.candidate_logprobs


def test_batching_does_not_change_answers(embedded_backend):
    task = load_task(ROOT / "tasks" / "general_knowledge.yaml")
    requests = plan(task, make_variants(task, load_items(task)[:6]), seed=0).unique
    batched = embedded_backend.run(requests)
    single = [embedded_backend.run([r])[0] for r in requests]
    for a, b in zip(batched, single):
        assert max(a.candidate_logprobs, key=a.candidate_logprobs.get) == \
            max(b.candidate_logprobs, key=b.candidate_logprobs.get)
        for label in "ABCD":
            assert a.candidate_logprobs[label] == pytest.approx(b.candidate_logprobs[label], abs=1e-3)


def test_run_task_end_to_end(embedded_backend, tmp_path):
    task = load_task(ROOT / "tasks" / "general_knowledge.yaml")
    result = run_task(task, embedded_backend, RunOptions(limit=12, bootstrap_resamples=200, min_group_size=1),
                      tmp_path / "run")
    assert read_result(tmp_path / "run") == result
    samples = read_samples(tmp_path / "run")
    assert len(samples) == 12 and result.counts.items == 12
    acc = result.metric("accuracy")
    assert acc.value == pytest.approx(sum(s.correct for s in samples) / 12)
    assert acc.ci_low <= acc.value <= acc.ci_high and acc.n == 12
    assert result.groups and result.groups[0].key == "domain"
    assert result.model.weights_sha256 and result.environment.packages["torch"]
    assert all(s.label_logprobs and set(s.label_logprobs) == set("ABCD") for s in samples)
    assert "Question:" in samples[0].messages[-1].content
    line = json.loads((tmp_path / "run" / "samples.jsonl").read_text().splitlines()[0])
    assert {"item_id", "messages", "output", "label_logprobs", "predicted", "correct", "groups"} <= set(line)


def test_generate_mode_parses_letters(embedded_backend, make_task, tmp_path):
    from tests.conftest import task_yaml

    path = make_task(yaml_text=task_yaml() + "answer: generate\ngeneration:\n  max_tokens: 8\n")
    result = run_task(load_task(path), embedded_backend, RunOptions(bootstrap_resamples=50), tmp_path / "gen")
    samples = read_samples(tmp_path / "gen")
    assert all(s.output is not None for s in samples)
    assert result.metric("invalid_rate").value == pytest.approx(sum(s.invalid for s in samples) / len(samples))
