"""The CLI's contract for bad input: one line naming file/line/field, exit code 2, no traceback."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from harness.cli.main import app
from tests.conftest import ROOT

BAD = ROOT / "tests" / "bad_inputs"
runner = CliRunner()


def cli(*args: str):
    return runner.invoke(app, list(args))


def test_validate_ok(make_task):
    result = cli("validate", str(make_task()))
    assert result.exit_code == 0, result.output
    assert "ok" in result.output and "3 items" in result.output


# (file in tests/bad_inputs, fragment of the one-line error)
CASES = [
    ("yaml_syntax.yaml", "yaml_syntax.yaml:4: YAML syntax error"),
    ("unknown_key.yaml", "unknown_key.yaml:3: field 'descripton': unknown key"),
    ("wrong_type.yaml", "wrong_type.yaml:13: field 'groups': Input should be a valid list"),
    ("missing_template.yaml", "missing_template.yaml:12: field 'prompt.template': template file not found"),
    ("empty.yaml", "empty.yaml: file is empty"),
    ("top_level_list.yaml", "top level must be a mapping"),
    ("python_tag.yaml", "python_tag.yaml:1: field 'name': unsupported YAML value"),
    ("duplicate_key.yaml", "duplicate_key.yaml:3: field 'name': duplicate key"),
    ("missing_column.yaml", "missing_column.yaml:13: field 'groups.0': column 'topic' is not in the dataset"),
    ("target_out_of_range.yaml", "row 2: answer 'E' is not one of the labels"),
    ("too_few_choices.yaml", "row 1: has 3 options but the task has 4 labels"),
    ("unknown_variable.yaml", "template uses an unknown variable"),
    ("unknown_arm.yaml", "unknown_arm.yaml:16: field 'persuasion.arms.2': unknown persuasion arm"),
    ("unknown_wording.yaml", "unknown_wording.yaml:19: field 'persuasion.wording.user_belief': unknown "
                             "user_belief wording 'grovelling' (known: strong, unsure)"),
    ("no_pressure.yaml", "no_pressure.yaml:12: field 'prompt.template': arms authority_wrong add a `pressure`"),
    ("persuasion_bad_target.yaml", "row 2: answer 'E' is not one of the labels"),
    ("unknown_perturbation.yaml", "unknown_perturbation.yaml:19: field 'perturbations.variants.0.steps.0.kind': "
                                  "unknown perturbation 'keyboard_typos' (known: "),
    ("bad_perturbation_param.yaml", "bad_perturbation_param.yaml:20: field "
                                    "'perturbations.variants.0.steps.0.rate': Input should be less than or equal to 1"),
    ("non_utf8.yaml", "non_utf8.jsonl: line 2 is not valid UTF-8"),
    ("empty_data.yaml", "empty_data.yaml:5: field 'dataset.path': the dataset file is empty (no rows)"),
    ("extra_option.yaml", "row 1: has 5 options but the task has 4 labels"),
    ("format_without_template.yaml", "format_without_template.yaml:18: field 'perturbations.variants.0.steps.0.kind': "
                                     "perturbation 'format' changes `format`, but the prompt template never uses"),
]


@pytest.mark.parametrize(("name", "fragment"), CASES)
def test_bad_inputs_one_line_exit_2(name, fragment):
    proc = subprocess.run([sys.executable, "-m", "harness.cli", "validate", str(BAD / name)],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("harness: error: ")
    assert fragment in lines[0]
    assert "Traceback" not in proc.stderr + proc.stdout


def test_binary_file(tmp_path):
    f = tmp_path / "bin.yaml"
    f.write_bytes(bytes(range(256)))
    result = cli("validate", str(f))
    assert result.exit_code == 2 and "binary file" in result.output


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
    assert "B − A = -41.7 [" in result.output and "5 where exactly one is right" in result.output
    data = json.loads((tmp_path / "c.json").read_text())
    assert data["comparison"]["b10"] == 5 and data["comparison"]["p_value"] == 0.0625
    assert [d[0] for d in data["differing"]] == ["q4", "q5", "q6", "q7", "q8"]
    write_run(tmp_path / "c", fake_run("c", "mc", "other", 0.5), samples(a_right[:6]))
    result = cli("compare", str(tmp_path / "a"), str(tmp_path / "c"))
    assert result.exit_code == 2 and "different tasks" in result.output
