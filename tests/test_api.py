"""`harness.evaluate`: what `harness run` does, as a function returning the typed results."""

import pytest

import harness
from harness.core.errors import HarnessError
from harness.results.schema import RunResult


def test_evaluate_on_the_fake_backend(tmp_path):
    ev = harness.evaluate(["general_knowledge", "robustness_suite"], model=["x", "y"], backend="fake", limit=3,
                          seed=7, output=tmp_path, cache=False, backend_args={"answer": "A"})
    assert all(isinstance(r, RunResult) for r in ev.runs) and len(ev.runs) == 8  # 2 models x (1 + 3 tasks)
    assert [(r.model.name, r.task.name) for r in ev.runs[:4]] == \
        [("x", "general_knowledge"), ("x", "general_knowledge"), ("x", "robustness"), ("x", "sycophancy")]
    assert all(d.is_dir() and (d / "results.json").is_file() for d in ev.run_dirs)
    assert [(g.group, g.model) for g in ev.groups] == [("robustness_suite", "x"), ("robustness_suite", "y")]
    assert ev.report == tmp_path / "index.html" and ev.report_runs == 8 and ev.report.is_file()
    assert ev.runs[0].settings.seeds["run"].model_dump() == {"value": 7, "source": "cli"}
    assert ev.runs[0].settings.limit == 3 and ev.runs[0].counts.items == 3


def test_evaluate_refuses_bad_input_before_running(tmp_path):
    with pytest.raises(HarnessError, match="unknown sample 'every'"):
        harness.evaluate("general_knowledge", backend="fake", sample="every", output=tmp_path)
    with pytest.raises(HarnessError, match="neither a task file nor a known task name"):
        harness.evaluate("no_such_task", backend="fake", output=tmp_path)
    assert not any(tmp_path.iterdir())


@pytest.mark.integration
def test_evaluate_on_the_embedded_model(tmp_path):
    ev = harness.evaluate("general_knowledge", limit=8, sample="stratified", output=tmp_path, report=False,
                          cache=False, dtype="float32")
    (run,) = ev.runs
    assert run.model.source == "embedded" and run.model.backend == "hf"
    assert run.counts.items == 8 and run.settings.sample == "stratified" and ev.report is None
    acc = next(m for m in run.metrics if m.name == "accuracy")
    assert acc.n == 8 and 0 <= acc.value <= 1 and acc.ci_low <= acc.value <= acc.ci_high
    assert (ev.run_dirs[0] / "samples.jsonl").read_text().count("\n") == 8
