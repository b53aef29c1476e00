"""Commands over finished runs: `harness report`, `compare`, `export`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from harness.cli.console import fail, out, skipped
from harness.core.errors import HarnessError


def report(
    runs: Annotated[list[Path], typer.Argument(help="Run directories, or folders of them.")] = [Path("runs")],  # noqa: B006
    output: Annotated[Path, typer.Option("--output", "-o", help="HTML file (or folder for index.html).")]
    = Path("reports/index.html"),
) -> None:
    """Build the self-contained HTML leaderboard from results files."""
    from harness.report.build import write_page

    try:
        page = write_page(runs, output, on_invalid=skipped)
    except HarnessError as exc:
        fail(exc)
    out.print(f"report: {page.path} ({page.line()})", markup=False, highlight=False, soft_wrap=True)


def compare(
    refs: Annotated[list[str] | None, typer.Argument(
        help="Runs to compare, A first: run directories or MODEL@TASK (the newest complete run under --runs).",
        show_default=False)] = None,
    task: Annotated[str | None, typer.Option("--task", help="With --models: the task the models ran.")] = None,
    models: Annotated[str | None, typer.Option("--models", help="Comma-separated models, A first, each compared "
                                                                 "with A (their newest complete run of --task).")]
    = None,
    metric: Annotated[str, typer.Option("--metric", help="accuracy | pass@1 | invalid_rate | follow_rate | flip_rate "
                                                         "(paired), or any metric in results.json (unpaired).")]
    = "accuracy",
    variant: Annotated[str | None, typer.Option("--variant", help="The variant to compare on ('all' pools them); "
                                                                  "default: the metric's own (see docs/report.md).")]
    = None,
    group: Annotated[str | None, typer.Option("--group", help="KEY=VALUE: only samples of that group.")] = None,
    runs_dir: Annotated[Path, typer.Option("--runs", help="Folder the runs are looked up in (harness run -o).")]
    = Path("runs"),
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Also write the comparison as JSON.")] = None,
) -> None:
    """Two (or more) runs of one task, sample by sample: metric difference B − A, its CI and p-value."""
    from harness.report.compare_cli import compare_command

    try:
        lines, record = compare_command(refs or [], task, models, metric, variant, group, runs_dir)
    except HarnessError as exc:
        fail(exc)
    out.print("\n".join(lines), markup=False, highlight=False, soft_wrap=True)
    if output:
        from harness.results.io import atomic_write_text

        atomic_write_text(output, json.dumps(record, indent=2) + "\n")
        out.print(f"written: {output}", markup=False, highlight=False)


def export(
    runs: Annotated[list[Path], typer.Argument(help="Run directories, or folders of them.")] = [Path("runs")],  # noqa: B006
    format: Annotated[str, typer.Option("--format", "-f", help="csv | jsonl | parquet")] = "csv",
    output: Annotated[Path, typer.Option("--output", "-o", help="Folder for `metrics.<fmt>` and `samples.<fmt>`.")]
    = Path("exports"),
    latest: Annotated[bool, typer.Option("--latest/--all", help="--latest (default): one run per model × task × "
                                         "backend, the newest complete one (a full run before a --limit one); "
                                         "--all: every run folder.")] = True,
) -> None:
    """Export metrics and samples of runs as two tables (CSV, JSON lines or Parquet) for pandas. Lists (choices,
    labels, tied) are lists in Parquet and JSON lines, JSON text in CSV."""
    from harness.results.export import export_runs

    try:
        if format not in ("csv", "jsonl", "parquet"):
            raise HarnessError(f"unknown format '{format}' (choose csv, jsonl or parquet)", field="--format")
        metrics_path, samples_path = export_runs(runs, format, output, latest=latest)  # type: ignore[arg-type]
    except HarnessError as exc:
        fail(exc)
    out.print(f"metrics: {metrics_path}\nsamples: {samples_path}", markup=False, highlight=False)


