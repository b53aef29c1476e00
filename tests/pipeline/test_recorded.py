"""Replay: recorded outputs go through the same task, parser, metrics and results as a live run."""

from __future__ import annotations

import json

import pytest

from harness.config.task import load_task
from harness.core.errors import HarnessError
from harness.pipeline.recorded import replay_backends
from harness.pipeline.runner import RunOptions, run_task
from harness.results.io import read_samples
from tests.conftest import ROOT, needs_shared_data
from tests.metrics.test_hallucination import OFFICIAL_EN

OPTIONS = RunOptions(bootstrap_resamples=200)


@needs_shared_data("nomiracl_en")
def test_replaying_11_models_reproduces_the_official_scores(tmp_path):
    task = load_task(ROOT / "tasks" / "nomiracl.yaml")
    backends = replay_backends(task, "replay:results.*")
    assert {b.info.name for b in backends} == set(OFFICIAL_EN)
    for backend in backends:
        result = run_task(task, backend, OPTIONS, tmp_path / backend.info.name)
        (nr_acc, hall, nr_inv), (r_acc, err, r_inv) = OFFICIAL_EN[backend.info.name]
        got = {m.name: m.value for m in result.metrics}
        assert 100 * got["hallucination_rate_official"] == pytest.approx(hall), backend.info.name
        assert 100 * got["error_rate_official"] == pytest.approx(err), backend.info.name
        assert 100 * got["invalid_rate_non_relevant"] == pytest.approx(nr_inv)
        assert 100 * got["accuracy_relevant"] == pytest.approx(r_acc)
        assert result.counts.items == 500 and result.model.backend == "replay"
    gpt4 = next(b for b in backends if b.info.name == "gpt-4-azure")
    result = run_task(task, gpt4, OPTIONS, tmp_path / "again")
    assert result.metric("hallucination_rate_official").value == pytest.approx(0.424)
    assert result.metric("error_rate_official").value == pytest.approx(0.048)
    samples = read_samples(tmp_path / "again")
    assert {s.groups["subset"] for s in samples} == {"relevant", "non_relevant"}
    assert all(s.target == ("answer" if s.groups["subset"] == "relevant" else "no_answer") for s in samples)


@pytest.fixture
def rag_task(tmp_path):
    rows = [{"id": f"q{i}", "query": f"Question {i}?", "passages": [{"title": "T", "text": f"Text {i}."}, "Other."],
             "relevant": i % 2 == 0} for i in range(4)]
    (tmp_path / "data.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (tmp_path / "task.yaml").write_text(
        "name: tiny_rag\ntype: rag\ndataset:\n  path: data.jsonl\nfields:\n  id: id\n  question: query\n"
        "rag:\n  passages: passages\n  relevant: relevant\n"
        f"prompt:\n  template: {ROOT / 'prompts' / 'rag' / 'vanilla.j2'}\nanswer: generate\n")
    return load_task(tmp_path / "task.yaml")


def test_replay_from_a_jsonl_file(rag_task, tmp_path):
    outputs = ["Yes, answer is present", "Yes, answer is present [1]", "I don't know", "Maybe?"]
    f = tmp_path / "recorded.jsonl"
    f.write_text("".join(json.dumps({"id": f"q{i}", "output": o, "model": "m1"}) + "\n" for i, o in enumerate(outputs)))
    (backend,) = replay_backends(rag_task, f"replay:{f}")
    result = run_task(rag_task, backend, OPTIONS, tmp_path / "run")
    samples = read_samples(tmp_path / "run")
    assert [s.predicted for s in samples] == ["answer", "answer", "no_answer", None]
    assert [s.correct for s in samples] == [True, False, False, False]  # q0, q2 relevant: q2 is an error
    got = {m.name: m.value for m in result.metrics}
    assert got["hallucination_rate"] == 1.0  # q1 said yes; q3 invalid is left out
    assert got["invalid_rate_non_relevant"] == 0.5 and got["error_rate"] == 0.5
    assert backend.info.name == "m1"
    prompt = samples[0].messages[-1].content
    assert "QUESTION:\nQuestion 0?" in prompt and "[1] T: Text 0.\n\n[2] Other." in prompt


def test_replay_errors_name_what_is_missing(rag_task, tmp_path):
    f = tmp_path / "partial.jsonl"
    f.write_text(json.dumps({"id": "q0", "output": "I don't know"}) + "\n")
    with pytest.raises(HarnessError, match="no recorded output for item q1"):
        replay_backends(rag_task, f"replay:{f}")
    f.write_text("{not json\n")
    with pytest.raises(HarnessError, match="not JSON") as info:
        replay_backends(rag_task, f"replay:{f}")
    assert info.value.line == 1
    with pytest.raises(HarnessError, match="column 'answers' holds no recorded output"):
        replay_backends(rag_task, "replay:answers")
    syc = load_task(ROOT / "tasks" / "sycophancy.yaml")
    with pytest.raises(HarnessError, match="persuasion arms or perturbations"):
        replay_backends(syc, "replay:answer", limit=2)


def test_cli_replays_every_recorded_model_into_the_leaderboard(tmp_path):
    from typer.testing import CliRunner

    from harness.cli.main import app

    rows = [{"id": f"q{i}", "query": f"Q{i}?", "relevant": i < 2,
             "results": {"m.v0.1": "Yes, answer is present", "other": "I don't know"}} for i in range(4)]
    (tmp_path / "d.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (tmp_path / "t.yaml").write_text(
        "name: rec\ntype: rag\ndataset:\n  path: d.jsonl\nfields:\n  id: id\n  question: query\n"
        f"rag:\n  relevant: relevant\nprompt:\n  template: {ROOT / 'prompts' / 'rag' / 'recorded.j2'}\n"
        "answer: generate\n")
    out = CliRunner().invoke(app, ["run", str(tmp_path / "t.yaml"), "--model", "replay:results.*",
                                   "-o", str(tmp_path / "runs"), "--report", str(tmp_path / "r.html")])
    assert out.exit_code == 0, out.output
    html = (tmp_path / "r.html").read_text()
    assert "m.v0.1 (replay, recorded)" in html and "other (replay, recorded)" in html  # a dotted model name
    assert len(list((tmp_path / "runs").glob("*/results.json"))) == 2
