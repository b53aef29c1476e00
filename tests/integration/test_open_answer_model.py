"""The built-in open-answer task on the real embedded model: real text, graded against aliases."""

import pytest

from harness.config.task import load_task
from harness.pipeline.runner import RunOptions, run_task
from harness.results.io import read_samples
from harness.scoring.abstention import classify
from tests.conftest import ROOT

pytestmark = pytest.mark.integration


def test_open_answer_task_runs_on_the_embedded_model(embedded_backend, tmp_path):
    task = load_task(ROOT / "tasks" / "open_facts.yaml")
    result = run_task(task, embedded_backend, RunOptions(limit=4, bootstrap_resamples=200), tmp_path / "open")
    samples = read_samples(tmp_path / "open")
    assert len(samples) == 4 and all(s.output for s in samples)
    for s in samples:
        assert s.predicted in ("correct", "incorrect", "not_attempted") and s.target == "correct"
        assert s.correct == (s.predicted == "correct") and not s.invalid
        assert "Answer the question" in s.messages[-1].content and "Paris" not in s.messages[-1].content
    assert samples[0].predicted == classify(samples[0].output, ["Paris"])  # geo-1: the capital of France
    got = {m.name: m for m in result.metrics}
    attempted = sum(s.predicted != "not_attempted" for s in samples)
    assert got["hallucination_rate"].n == attempted
    assert got["correct_rate"].value == pytest.approx(sum(s.correct for s in samples) / 4)
