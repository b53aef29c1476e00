"""The CLI's contract for bad input: one line naming file/line/field, exit code 2, no traceback. The broken
files of tests/bad_inputs and every other hostile case run in tests/hostile/test_hostile.py."""

import json
from pathlib import Path

from typer.testing import CliRunner

from harness.cli.main import app
from tests.conftest import ROOT, task_yaml

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
    schema = json.loads(result.output)
    assert {"MultipleChoiceSpec", "RagTaskSpec", "OpenAnswerTaskSpec"} <= set(schema["$defs"])
    assert len(schema["oneOf"]) >= 3  # one member per task kind


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
    assert "B − A = -41.7 pp [" in result.output and "5 where exactly one scores 1" in result.output
    data = json.loads((tmp_path / "c.json").read_text())
    assert data["comparison"]["b10"] == 5 and data["comparison"]["p_value"] == 0.0625
    assert [d[0] for d in data["differing"]] == ["q4", "q5", "q6", "q7", "q8"]
    write_run(tmp_path / "c", fake_run("c", "mc", "other", 0.5), samples(a_right[:6]))
    result = cli("compare", str(tmp_path / "a"), str(tmp_path / "c"))
    assert result.exit_code == 2 and "different tasks" in result.output


def test_run_takes_the_statistics_options(make_task, tmp_path):
    """Issue 15 defect 5: --min-group-size, --bootstrap-resamples and --ci-level on the command line."""
    recorded = tmp_path / "recorded.jsonl"
    recorded.write_text("".join(json.dumps({"id": f"q{i}", "output": "B", "model": "m"}) + "\n" for i in (1, 2, 3)))
    task = make_task(yaml_text=task_yaml(answer="answer: generate", stats="stats:\n  min_group_size: 2"))
    result = cli("run", str(task), "--model", f"replay:{recorded}", "-o", str(tmp_path / "runs"), "--no-report",
                 "--min-group-size", "1", "--bootstrap-resamples", "20", "--ci-level", "0.8")
    assert result.exit_code == 0, result.output
    (run,) = (tmp_path / "runs").iterdir()
    settings = json.loads((run / "results.json").read_text())["settings"]
    assert (settings["min_group_size"], settings["bootstrap_resamples"], settings["ci_level"]) == (1, 20, 0.8)


def test_validate_notes_an_arm_that_may_be_skipped(make_task):
    """Issue 15 defect 1: `harness validate` accepted a 2-option task whose are_you_sure_wrong arm then crashed."""
    rows = [{"id": f"q{i}", "domain": "d", "question": f"Q{i}?", "choices": ["yes", "no"], "answer": "A"}
            for i in range(3)]
    persuasion = (f"persuasion:\n  arms: [neutral, are_you_sure_wrong]\n"
                  f"  templates: {ROOT / 'prompts' / 'persuasion'}")
    task = make_task(rows=rows, yaml_text=task_yaml(choices="choices:\n  field: choices\n  labels: [A, B]",
                                                    persuasion=persuasion))
    result = cli("validate", str(task))
    assert result.exit_code == 0, result.output
    assert "are_you_sure_wrong cannot apply to 3 items" in " ".join(result.output.split())
