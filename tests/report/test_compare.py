"""`harness compare` chooses the metric and the group, names the variants it is on, and finds runs by
MODEL@TASK or --task/--models; unknown metrics and runs are one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from harness.backends.base import Message
from harness.cli.main import app
from harness.results.io import write_run
from harness.results.schema import Metric, Sample
from tests.report.test_build import fake_run


def sample(item: int, variant: str, answer: str, asserted: str | None = None) -> Sample:
    return Sample(item_id=f"q{item}", variant=variant, groups={"domain": "even" if item % 2 == 0 else "odd"},
                  messages=[Message(role="user", content=f"Q{item}?")], choices=["a", "b"], labels=["A", "B"],
                  target="A", asserted=asserted, output=answer, label_logprobs=None, predicted=answer,
                  predicted_option=0 if answer == "A" else 1, correct=answer == "A", invalid=False, gold_prob=None,
                  prompt_tokens=3, output_tokens=1, request_key=f"{variant}{item}")


def persuasion(folder: Path, model: str, neutral: str, pressured: str, created: str = "2026-01-01T00:00:00",
               run_id: str | None = None) -> None:
    """10 items; neutral answers and answers under authority_wrong (which asserts B), one letter per item."""
    run = fake_run(run_id or model, model, "syc", neutral.count("A") / 10, created)
    for m in run.metrics:
        m.variant = "neutral"
    run.metrics.append(Metric(name="follow_rate", variant="authority_wrong", value=pressured.count("B") / 10, n=10,
                              formula="f"))
    samples = [sample(i, "neutral", a) for i, a in enumerate(neutral)]
    samples += [sample(i, "authority_wrong", a, asserted="B") for i, a in enumerate(pressured)]
    write_run(folder / run.run_id, run, samples)


@pytest.fixture
def runs(tmp_path: Path) -> Path:
    persuasion(tmp_path, "ma", "AAAAAAAAAB", "AAAAAAABBB")  # neutral 90 %, follows on 3
    persuasion(tmp_path, "mb", "AAAAAABBBB", "BBBBBBBBBB")  # neutral 60 %, follows on every item
    persuasion(tmp_path, "mb", "BBBBBBBBBB", "BBBBBBBBBB", "2025-01-01T00:00:00", run_id="mb-old")  # superseded
    return tmp_path


def cli(*args: str):
    return CliRunner().invoke(app, list(args))


def text(result) -> str:
    return " ".join(result.output.split())


def test_default_is_the_neutral_accuracy_labelled_never_pooled(runs: Path):
    out = cli("compare", "--task", "syc", "--models", "ma,mb", "--runs", str(runs))
    assert out.exit_code == 0, out.output
    assert "syc, accuracy on variant neutral: A = ma 90.0, B = mb 60.0" in text(out)  # not the pooled 55.0 / 30.0
    assert "B − A = -30.0 pp" in text(out) and "10 samples, 3 where exactly one scores 1" in text(out)


def test_follow_rate_flip_rate_and_a_group(runs: Path, tmp_path: Path):
    out = cli("compare", "ma@syc", "mb@syc", "--runs", str(runs), "--metric", "follow_rate", "-o",
              str(tmp_path / "c.json"))
    assert out.exit_code == 0, out.output
    assert "follow_rate on arm authority_wrong: A = ma 30.0, B = mb 100.0" in text(out)
    record = json.loads((tmp_path / "c.json").read_text())
    assert record["selection"]["variants"] == ["authority_wrong"] and record["comparison"]["b01"] == 7
    out = cli("compare", "ma@syc", "mb@syc", "--runs", str(runs), "--metric", "flip_rate")
    assert "flip_rate on 1 variant(s) pooled, each against neutral: A = ma 20.0, B = mb 60.0" in text(out)
    out = cli("compare", "ma@syc", "mb@syc", "--runs", str(runs), "--metric", "follow_rate", "--group", "domain=odd")
    assert "follow_rate on arm authority_wrong, domain = odd: A = ma 40.0, B = mb 100.0" in text(out)
    assert "5 samples" in text(out)


def test_a_metric_only_in_results_json_is_compared_unpaired(runs: Path):
    out = cli("compare", "ma@syc", "mb@syc", "--runs", str(runs), "--metric", "worst_group_accuracy")
    assert out.exit_code == 0, out.output
    assert "worst_group_accuracy [neutral] from results.json, unpaired: A = ma 45.0" in text(out)
    assert "no paired CI" in text(out)


def test_unknown_metric_or_run_is_one_line(runs: Path):
    out = cli("compare", "ma@syc", "mb@syc", "--runs", str(runs), "--metric", "bogus")
    assert out.exit_code == 2 and "unknown metric 'bogus'" in out.output and "follow_rate" in out.output
    assert "Traceback" not in out.output and len(out.output.strip().splitlines()) == 1
    out = cli("compare", "ma@syc", "nobody@syc", "--runs", str(runs))
    assert out.exit_code == 2 and "no run of model 'nobody' on task 'syc'" in out.output
    assert "(there: ma@syc, mb@syc)" in out.output and len(out.output.strip().splitlines()) == 1
    out = cli("compare", "--models", "ma,mb", "--runs", str(runs))
    assert out.exit_code == 2 and "--models needs --task" in out.output
    out = cli("compare", "ma@syc", "mb@syc", "--runs", str(runs), "--group", "nogroup")
    assert out.exit_code == 2 and "KEY=VALUE" in out.output
