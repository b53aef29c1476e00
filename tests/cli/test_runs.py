"""`harness run --judge-backend/--judge-model/--judge-arg`: the command line wins over the task's `judge:` block,
the results say so, and a judge that is the subject model reuses the subject's engine."""

import json

from typer.testing import CliRunner

from harness.backends.fake import FakeBackend
from harness.cli.main import app
from harness.cli.runs import judges
from harness.config.task import load_task
from tests.conftest import ROOT

JUDGED = ROOT / "tasks" / "judged_answers.yaml"


def test_judge_options_on_the_command_line_win(tmp_path):
    result = CliRunner().invoke(app, ["run", str(JUDGED), "--limit", "2", "--backend", "fake", "-B", "reply=Tilt.",
                                      "--judge-backend", "fake", "--judge-arg", "answer=Score: 8", "-o",
                                      str(tmp_path / "runs"), "--no-report", "--no-cache"])
    assert result.exit_code == 0, result.output
    assert "judged by smollm2-135m-instruct (fake; from the command line), 2 judge requests" in result.output
    (run_dir,) = (tmp_path / "runs").iterdir()
    saved = json.loads((run_dir / "results.json").read_text())
    assert saved["judge"]["given_by"] == "command line" and saved["judge"]["model"]["backend"] == "fake"
    assert {m["name"]: m["value"] for m in saved["metrics"]}["judge_mean_score"] == 8.0


def test_a_bad_judge_arg_is_one_line(tmp_path):
    result = CliRunner().invoke(app, ["run", str(JUDGED), "--limit", "1", "--backend", "fake",
                                      "--judge-backend", "fake", "--judge-arg", "colour=blue", "-o",
                                      str(tmp_path / "runs"), "--no-report", "--no-cache"])
    assert result.exit_code == 2 and "has no option 'colour'" in result.output


def test_the_subject_model_as_judge_is_one_engine():
    task = load_task(JUDGED)  # its judge: hf, the embedded model
    subject = FakeBackend()
    same = judges([(task, subject)], None, "hf", [], (None, None, []))
    assert same[0].backend is subject and same[0].given_by == "task file"
    other = judges([(task, subject), (task, subject)], None, "hf", [], ("fake", None, []))
    assert other[0].backend is not subject and other[0].backend is other[1].backend  # one judge for both
