"""The built-in RAG task on the real embedded model: real generations, parsed by NoMIRACL's rule."""

import pytest

from harness.config.task import load_task
from harness.pipeline.runner import RunOptions, run_task
from harness.results.io import read_samples
from harness.scoring.nomiracl import parse
from tests.conftest import ROOT

pytestmark = pytest.mark.integration


def test_rag_task_runs_on_the_embedded_model(embedded_backend, tmp_path):
    task = load_task(ROOT / "tasks" / "rag_facts.yaml")
    task = task.model_copy(update={"spec": task.spec.model_copy(
        update={"generation": task.spec.generation.model_copy(update={"max_tokens": 8})})})
    result = run_task(task, embedded_backend, RunOptions(limit=4, bootstrap_resamples=200), tmp_path / "rag")
    samples = read_samples(tmp_path / "rag")
    assert [s.target for s in samples] == ["answer", "answer", "no_answer", "no_answer"]  # geo-r1, r2, n1, n2
    for s in samples:
        assert s.output  # the model generated text
        assert s.predicted == (None if parse(s.output) == "invalid" else parse(s.output))
        assert s.label_logprobs is None  # no option scoring: the answer is read from text
        assert "CONTEXTS:\n[1] " in s.messages[-1].content
    names = {m.name for m in result.metrics}
    assert {"hallucination_rate", "error_rate", "hallucination_rate_official", "error_rate_official",
            "invalid_rate_relevant", "invalid_rate_non_relevant", "accuracy"} <= names
