"""The table `harness run` prints at the end: one row per run, its headline metrics with CIs.

The columns are those of the leaderboard (harness/report/leaderboard.py) less the metrics whose metadata
marks them as detail (`MetricInfo.detail`): every headline metric some run has, in the order its metadata was
declared, labelled with its display name and unit, formatted in that unit (harness/report/format.py); a
metric about one variant names it. The worst group is named beside, and a lower small group when there is one.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from rich.table import Table

from harness.report.build import group_names
from harness.report.format import load_metadata, number, with_ci
from harness.report.leaderboard import columns, headline, headline_arm
from harness.results.schema import Metric, RunResult

if TYPE_CHECKING:
    from harness.pipeline.estimate import Estimate


def fmt(m: Metric | None) -> str:
    """The metric in its unit with its CI, '–' when there is none."""
    return with_ci(m)


def _lowest_group(run: RunResult) -> str | None:
    """The lowest group when it is below the worst group (a small group, flagged): else None."""
    low, wg = run.metric("min_group_accuracy"), run.metric("worst_group_accuracy")
    if low is None or low.value is None or (wg is not None and wg.value is not None and low.value >= wg.value):
        return None
    return f"{low.group_key}={group_names(low)}{' (small)' if low.small else ''}: {fmt(low)}"


def _cell(m: Metric | None, unit: str, run: RunResult) -> str:
    if m is None or m.value is None:
        return "–"
    text = with_ci(m, unit) + (f" ({m.variant})" if m.variant else "")
    official = run.metric(f"{m.name}_official")
    return text + (f" / official {number(official.value, unit)}" if official and official.value is not None else "")


def summary_table(results: list[tuple[Path, RunResult]]) -> Table:
    load_metadata()
    runs = [r for _, r in results]
    heads = [headline(r, headline_arm(r)) for r in runs]
    cols = [c for c in columns(heads) if not c.detail]
    lowest = any(_lowest_group(r) for r in runs)
    levels = {r.settings.ci_level for r in runs}
    table = Table(title=f"results ({levels.pop():.0%} CIs in brackets)" if len(levels) == 1 else "results")
    for col in ("task", "model", "items", "worst group") + (("lowest group, small ones included",) if lowest else ()):
        table.add_column(col)
    for c in cols:
        table.add_column(c.header)
    for r, head in zip(runs, heads):
        wg = r.metric("worst_group_accuracy")
        table.add_row(r.task.name, r.model.name, str(r.counts.items) + (" (--limit)" if r.settings.limit else ""),
                      f"{wg.group_key}={group_names(wg)}" if wg and wg.group else "–",
                      *((_lowest_group(r) or "–",) if lowest else ()),
                      *(_cell(head.get(c.name), c.unit, r) for c in cols))
    return table


def estimate_line(name: str, e: Estimate) -> str:
    """The line a run prints before it starts: what it will ask, and how much the cache answers."""
    more = f" + {e.second_turns} second turns" if e.second_turns else ""
    line = f"{name}: {e.items} items, {e.samples} samples, {e.requests} distinct requests{more}"
    if e.cached == e.requests:
        return line + " (all in the cache)"
    if e.cached:
        line += f" ({e.cached} in the cache)"
    if e.prompt_tokens is not None:
        line += f", {e.prompt_tokens:,} prompt tokens" + (" to compute" if e.cached else "")
    return line
