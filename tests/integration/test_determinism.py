"""Same task, model, seed and dtype: the same bytes. Across batch sizes: the same answers and
metrics (log-probs agree to 1e-4; the floating-point summation order changes with the batch)."""

import json

import pytest

from harness.backends.hf import HFBackend
from harness.backends.models import resolve_model
from harness.config.task import load_task
from harness.pipeline.runner import RunOptions, run_task
from tests.conftest import ROOT

pytestmark = pytest.mark.integration
OPTIONS = RunOptions(limit=8, bootstrap_resamples=200)


def rows(run_dir):
    return [json.loads(x) for x in (run_dir / "samples.jsonl").read_text().splitlines()]


def test_two_runs_write_the_same_bytes(embedded_backend, tmp_path):
    task = load_task(ROOT / "tasks" / "sycophancy.yaml")  # single and two-turn prompts
    a = run_task(task, embedded_backend, OPTIONS, tmp_path / "a")
    b = run_task(task, embedded_backend, OPTIONS, tmp_path / "b")
    assert (tmp_path / "a" / "samples.jsonl").read_bytes() == (tmp_path / "b" / "samples.jsonl").read_bytes()
    assert a.metrics == b.metrics and a.groups == b.groups and a.states == b.states


def test_batch_size_changes_no_answer(embedded_backend, tmp_path):
    task = load_task(ROOT / "tasks" / "general_knowledge.yaml")
    one = HFBackend(resolve_model(None), dtype="float32", batch_size=1)
    a = run_task(task, one, OPTIONS, tmp_path / "one")
    b = run_task(task, embedded_backend, OPTIONS, tmp_path / "four")  # batch size 4
    assert a.metrics == b.metrics
    for x, y in zip(rows(tmp_path / "one"), rows(tmp_path / "four")):
        assert (x["item_id"], x["predicted"], x["correct"]) == (y["item_id"], y["predicted"], y["correct"])
        assert x["label_logprobs"] == pytest.approx(y["label_logprobs"], abs=1e-4)


def test_a_streamed_run_writes_the_same_bytes_as_a_whole_one(tmp_path):
    """Chunks of 2 items (each chunk's two waves sent on their own) against one chunk of all 5."""
    task = load_task(ROOT / "tasks" / "sycophancy.yaml")  # dialogues: a second wave per chunk
    dataset = task.spec.dataset.model_copy(update={"streaming": True, "chunk_items": 2})
    streamed = task.model_copy(update={"spec": task.spec.model_copy(update={"dataset": dataset})})
    one = HFBackend(resolve_model(None), dtype="float32", batch_size=1)  # the same batches either way
    options = OPTIONS.model_copy(update={"limit": 5})
    a = run_task(task, one, options, tmp_path / "whole")
    b = run_task(streamed, one, options, tmp_path / "streamed")
    assert (tmp_path / "whole" / "samples.jsonl").read_bytes() == (tmp_path / "streamed" / "samples.jsonl").read_bytes()
    assert a.metrics == b.metrics and a.groups == b.groups and a.states == b.states
    assert a.counts == b.counts
