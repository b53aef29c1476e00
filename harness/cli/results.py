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
    from harness.report.build import write_report

    try:
        path, count = write_report(runs, output, on_invalid=skipped)
    except HarnessError as exc:
        fail(exc)
    out.print(f"report: {path} ({count} runs)")


def compare(
    run_a: Annotated[Path, typer.Argument(help="Run directory of model A.", show_default=False)],
    run_b: Annotated[Path, typer.Argument(help="Run directory of model B (same task and items).", show_default=False)],
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Also write the comparison as JSON.")] = None,
) -> None:
    """Two runs of one task, sample by sample: accuracy difference B − A, its CI and p-value."""
    from harness.metrics.paired import compare_runs
    from harness.report.build import model_label
    from harness.results.io import atomic_write_text, read_result, read_samples

    try:
        runs = []
        for d in (run_a, run_b):
            if not (d / "results.json").is_file() or not (d / "samples.jsonl").is_file():
                raise HarnessError("not a run directory (needs results.json and samples.jsonl)", file=d)
            runs.append((read_result(d), read_samples(d)))
        (ra, sa), (rb, sb) = runs
        if ra.task.name != rb.task.name:
            raise HarnessError(f"the runs are of different tasks ({ra.task.name}, {rb.task.name})", file=run_b)
        try:
            comparison, differing = compare_runs(sa, sb, name_a=model_label(ra), name_b=model_label(rb),
                                                 seed=ra.settings.seed, resamples=ra.settings.bootstrap_resamples,
                                                 level=ra.settings.ci_level)
        except ValueError as exc:
            raise HarnessError(str(exc), file=run_b) from None
    except HarnessError as exc:
        fail(exc)
    c = comparison
    out.print(f"{ra.task.name}: A = {c.name_a} {100 * c.value_a:.1f}, B = {c.name_b} {100 * c.value_b:.1f}\n"
              f"B − A = {100 * c.diff:+.1f} [{100 * c.ci_low:.1f}, {100 * c.ci_high:.1f}] ({c.ci_method}); "
              f"p = {c.p_value:.3g} ({c.method}); {c.n} samples, {len(differing)} where exactly one is right",
              markup=False, highlight=False, soft_wrap=True)
    if output:
        atomic_write_text(output, json.dumps({"comparison": c.model_dump(), "differing": differing}, indent=2) + "\n")
        out.print(f"written: {output}", markup=False, highlight=False)


def export(
    runs: Annotated[list[Path], typer.Argument(help="Run directories, or folders of them.")] = [Path("runs")],  # noqa: B006
    format: Annotated[str, typer.Option("--format", "-f", help="csv | jsonl | parquet")] = "csv",
    output: Annotated[Path, typer.Option("--output", "-o", help="Folder for `metrics.<fmt>` and `samples.<fmt>`.")]
    = Path("exports"),
) -> None:
    """Export metrics and samples of runs as two tables (CSV, JSON lines or Parquet) for pandas."""
    from harness.results.export import export_runs

    try:
        if format not in ("csv", "jsonl", "parquet"):
            raise HarnessError(f"unknown format '{format}' (choose csv, jsonl or parquet)", field="--format")
        metrics_path, samples_path = export_runs(runs, format, output)  # type: ignore[arg-type]
    except HarnessError as exc:
        fail(exc)
    out.print(f"metrics: {metrics_path}\nsamples: {samples_path}", markup=False, highlight=False)


