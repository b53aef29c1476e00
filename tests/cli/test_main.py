"""The CLI's contract for bad input: one line naming file/line/field, exit code 2, no traceback. The broken
files of tests/bad_inputs and every other hostile case run in tests/hostile/test_hostile.py."""

import json
from pathlib import Path

from typer.testing import CliRunner

from harness.cli.main import app
from tests.conftest import ROOT

runner = CliRunner()


def cli(*args: str):
    return runner.invoke(app, list(args))


def test_validate_ok(make_task):
    result = cli("validate", str(make_task()))
    assert result.exit_code == 0, result.output
    assert "ok" in result.output and "3 items" in result.output


def test_run_refuses_bad_task_before_loading_a_model(tmp_path):
    f = tmp_path / "t.yaml"
    f.write_text("name: x\n")
    result = cli("run", str(f), "--model", str(tmp_path / "no-such-model"))
    assert result.exit_code == 2 and "required key is missing" in result.output


def test_run_with_missing_model_folder(make_task, tmp_path):
    result = cli("run", str(make_task()), "--model", str(tmp_path / "nowhere"), "-o", str(tmp_path / "runs"))
    assert result.exit_code == 2
    assert "model folder not found" in result.output


def test_schema_prints_json():
    result = cli("schema")
    assert result.exit_code == 0
    assert json.loads(result.output)["title"] == "TaskSpec"


def test_list_builtin_tasks():
    result = cli("list", str(ROOT / "tasks"))
    assert result.exit_code == 0
    assert "general_knowledge" in result.output


def test_builtin_tasks_validate_without_data():
    files = [str(p) for p in sorted(Path(ROOT / "tasks").glob("*.yaml"))]
    result = cli("validate", "--no-data", *files)
    assert result.exit_code == 0, result.output


def test_report_without_runs(tmp_path):
    result = cli("report", str(tmp_path), "-o", str(tmp_path / "r.html"))
    assert result.exit_code == 2 and "no runs found" in result.output


def test_compare_two_runs(tmp_path):
    from harness.results.io import write_run
    from tests.report.test_browser import samples
    from tests.report.test_build import fake_run

    a_right = [True] * 9 + [False] * 3
    b_right = [True] * 4 + [False] * 8
    write_run(tmp_path / "a", fake_run("a", "ma", "t", 0.75), samples(a_right))
    write_run(tmp_path / "b", fake_run("b", "mb", "t", 0.33), samples(b_right))
    result = cli("compare", str(tmp_path / "a"), str(tmp_path / "b"), "-o", str(tmp_path / "c.json"))
    assert result.exit_code == 0, result.output
    assert "B − A = -41.7 [" in result.output and "5 where exactly one is right" in result.output
    data = json.loads((tmp_path / "c.json").read_text())
    assert data["comparison"]["b10"] == 5 and data["comparison"]["p_value"] == 0.0625
    assert [d[0] for d in data["differing"]] == ["q4", "q5", "q6", "q7", "q8"]
    write_run(tmp_path / "c", fake_run("c", "mc", "other", 0.5), samples(a_right[:6]))
    result = cli("compare", str(tmp_path / "a"), str(tmp_path / "c"))
    assert result.exit_code == 2 and "different tasks" in result.output
