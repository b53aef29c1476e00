"""What `harness run` prints at the end: the summary of every run, each task group's aggregate, the report."""

from __future__ import annotations

from rich.table import Table

from harness.cli.console import out, print_table
from harness.metrics.aggregate import Aggregate
from harness.results.schema import Estimate


def _pct(e: Estimate) -> str:
    if e.value is None:
        return "n/a"
    ci = f" [{100 * e.ci_low:.1f}, {100 * e.ci_high:.1f}]" if e.ci_low is not None and e.ci_high is not None else ""
    return f"{100 * e.value:.1f}{ci}"


def group_table(groups: list[Aggregate]) -> Table:
    """One row per group x model: macro and micro accuracy (%, with their intervals) and what they pool."""
    table = Table(title="task groups: accuracy (%) of the clean prompt, macro = mean over tasks, micro = pooled "
                        "over items")
    for col in ("group", "model", "macro [CI]", "tasks", "micro [CI]", "items", "left out"):
        table.add_column(col)
    for g in groups:
        table.add_row(g.group, f"{g.model} ({g.backend})", _pct(g.macro), str(g.macro.n), _pct(g.micro),
                      str(g.micro.n), ", ".join(g.left_out))
    return table


def print_evaluation(ev) -> None:  # type: ignore[no-untyped-def]
    """The end of `harness run`: the runs' summary table, the groups' aggregates, where everything went."""
    from harness.report.summary import summary_table

    print_table(summary_table(list(zip(ev.run_dirs, ev.runs))))
    for run_dir in ev.run_dirs:
        out.print(f"run: {run_dir}")
    if ev.groups:
        print_table(group_table(ev.groups))
        for file in ev.group_files:
            out.print(f"group: {file}")
    if ev.report is not None:
        out.print(f"report: {ev.report} ({ev.report_runs} runs)")
