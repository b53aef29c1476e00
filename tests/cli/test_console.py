"""What the console prints when it is not a terminal: whole tables as markdown, prompts byte for byte."""

from rich.table import Table
from typer.testing import CliRunner

from harness.cli.console import markdown_table
from harness.cli.main import app
from tests.conftest import task_yaml

runner = CliRunner()


def test_markdown_table_keeps_every_cell_whole():
    table = Table(title="results")
    table.add_column("task")
    table.add_column("options")
    long = "general_knowledge_" + "x" * 150
    table.add_row(long, "a | b\nc")
    assert markdown_table(table).splitlines() == [
        "results", "", "| task | options |", "|---|---|", f"| {long} | a \\| b<br>c |"]


def test_piped_tables_are_markdown_not_cut_boxes():
    result = runner.invoke(app, ["backends"])  # CliRunner's stdout is no terminal, like `| cat`
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[:2] == ["| backend | what it is | options (-B key=value) |", "|---|---|---|"]
    assert "…" not in result.output and "┃" not in result.output and "│" not in result.output
    vllm = next(line for line in lines if line.startswith("| vllm |"))
    assert "gpu_memory_utilization=0.9" in vllm and len(vllm) > 200  # one line, nothing cut at 80 columns


def test_dry_run_prints_the_prompt_exactly(make_task, tmp_path):
    question = "Tab\there, [bold]markup[/bold] and :x: stay; " + "a long line " * 20
    rows = [{"id": "q1", "domain": "d", "question": question, "choices": ["w", "x", "y", "z"], "answer": "A"}]
    task = make_task(rows=rows, yaml_text=task_yaml())
    result = runner.invoke(app, ["run", str(task), "--dry-run", "--backend", "openai", "-o", str(tmp_path / "r")])
    assert result.exit_code == 0, result.output
    (line,) = [x for x in result.output.splitlines() if "Tab" in x]
    assert question.rstrip() in line  # the tab kept, no soft wrap at 80 columns, no markup or emoji rendered


def test_help_keeps_placeholders():
    """typer's markdown help ate `<id>` (`runs//results.json`): placeholders are in code spans."""
    import re

    import typer.main

    commands = [c.name for c in typer.main.get_command(app).commands.values()]  # type: ignore[attr-defined]
    for args in [["--help"], *([c, "--help"] for c in commands if c != "cache")]:
        text = runner.invoke(app, args, env={"COLUMNS": "250"}).output
        assert not re.search(r"[^:]//", text), (args, text)
    assert "runs/<id>/results.json" in runner.invoke(app, ["run", "--help"], env={"COLUMNS": "250"}).output
    assert "metrics.<fmt>" in runner.invoke(app, ["export", "--help"], env={"COLUMNS": "250"}).output
