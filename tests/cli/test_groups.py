"""Task groups: a YAML listing tasks, run by path or by name, with macro and micro accuracy in the console and a
results file (harness/metrics/aggregate.py computes them)."""

import json

from typer.testing import CliRunner

from harness.cli.main import app
from harness.metrics.aggregate import Aggregate

runner = CliRunner()


def test_builtin_group_by_name(tmp_path):
    result = runner.invoke(app, ["run", "robustness_suite", "--backend", "fake", "--no-cache", "--limit", "4",
                                 "-o", str(tmp_path), "--no-report"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    files = sorted((tmp_path / "groups").glob("*.json"))
    assert len(files) == 1 and f"group: {files[0]}" in result.output
    agg = Aggregate.model_validate_json(files[0].read_text())
    assert [t.task for t in agg.tasks] == ["general_knowledge", "robustness", "sycophancy"]
    runs = {r["task"]["name"]: r for r in (json.loads(f.read_text()) for f in tmp_path.glob("*/results.json"))}
    heads = {name: next(m for m in r["metrics"] if m["name"] == "accuracy") for name, r in runs.items()}
    assert [t.value for t in agg.tasks] == [heads[t.task]["value"] for t in agg.tasks]
    assert agg.macro.value == sum(h["value"] for h in heads.values()) / 3 and agg.macro.n == 3
    pooled = sum(h["value"] * h["n"] for h in heads.values()) / sum(h["n"] for h in heads.values())
    assert abs(agg.micro.value - pooled) < 1e-12 and agg.micro.n == 12
    assert agg.micro.ci_low <= agg.micro.value <= agg.micro.ci_high
    assert "robustness_suite" in result.output and "macro [CI]" in result.output


def test_group_file_with_paths_and_bad_entries(tmp_path, make_task):
    make_task()
    (tmp_path / "two.yaml").write_text((tmp_path / "task.yaml").read_text().replace("name: tiny", "name: tiny2"))
    group = tmp_path / "g.yaml"
    group.write_text("group: mine\ntasks: [task.yaml, two.yaml]\n")
    result = runner.invoke(app, ["run", str(group), "--backend", "fake", "--no-cache", "-o", str(tmp_path / "r"),
                                 "--no-report", "-B", "answer=A"])
    assert result.exit_code == 0, result.output
    agg = Aggregate.model_validate_json(next((tmp_path / "r" / "groups").glob("*.json")).read_text())
    # answer A: right on q2 only, in each task of three items
    assert (agg.macro.value, agg.micro.value, agg.micro.n) == (1 / 3, 1 / 3, 6)
    group.write_text("group: mine\ntasks: [task.yaml, nowhere_task]\n")
    result = runner.invoke(app, ["run", str(group), "--backend", "fake", "-o", str(tmp_path / "r")])
    assert result.exit_code == 2
    assert f"{group}:2: field 'tasks.1': 'nowhere_task' is neither a task file nor a known task" in result.output
