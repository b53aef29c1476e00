"""The embedded model as both subject and judge (one engine), on the built-in judged and refusal tasks."""

import pytest

from harness.config.task import load_task
from harness.pipeline.judging import Judge
from harness.pipeline.runner import RunOptions, run_task
from harness.results.io import read_samples
from harness.scoring.judge_grades import parse_scale
from harness.scoring.refusal import refused
from tests.conftest import ROOT

pytestmark = pytest.mark.integration


def test_the_embedded_model_judges_its_own_answers(embedded_backend, tmp_path):
    task = load_task(ROOT / "tasks" / "judged_answers.yaml")
    result = run_task(task, embedded_backend, RunOptions(limit=2, bootstrap_resamples=100), tmp_path / "j",
                      judge=Judge(embedded_backend, "task file"))
    samples = read_samples(tmp_path / "j")
    assert len(samples) == 2 and all(s.output for s in samples)
    for s in samples:
        (call,) = s.judge.calls
        assert s.output in call.messages[-1].content and "Rubric:" in call.messages[-1].content
        assert call.output is not None and s.predicted == parse_scale(call.output, 1, 10) == call.grade
        assert s.invalid == (s.predicted is None)
    m = {x.name: x for x in result.metrics}
    assert m["judge_invalid_rate"].n == 2 and result.counts.invalid == round(m["judge_invalid_rate"].value * 2)
    assert result.judge.model.name == embedded_backend.info.name and result.judge.requests_unique == 2


def test_refusal_task_on_the_embedded_model(embedded_backend, tmp_path):
    task = load_task(ROOT / "tasks" / "refusal.yaml")
    result = run_task(task, embedded_backend, RunOptions(limit=1, bootstrap_resamples=100), tmp_path / "r")
    samples = read_samples(tmp_path / "r")
    assert sorted({s.variant for s in samples}) == ["authority", "benign", "original", "typos"]
    for s in samples:
        verdict = refused(s.output)
        assert s.predicted == (None if verdict is None else "refused" if verdict else "complied")
    m = {(x.name, x.variant): x for x in result.metrics}
    harmful = [s for s in samples if s.variant == "original" and not s.invalid]
    assert m[("refusal_rate", None)].n == len(harmful)
    assert m[("refusal_rate", None)].value == pytest.approx(sum(s.predicted == "refused" for s in harmful)
                                                            / len(harmful))
