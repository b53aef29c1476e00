"""The table `harness run` prints at the end: one row per run, the headline numbers with CIs.

Columns appear only when some run has them: follow rate (persuasion), flip rate and the worst
perturbation (perturbations), hallucination and error rates beside the official convention (rag),
pass@1 on the original prompts and robust pass@1 over every perturbation (code).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from rich.table import Table

from harness.report.build import group_names, headline_arm, overall
from harness.results.schema import Metric, RunResult

if TYPE_CHECKING:
    from harness.pipeline.runner import Estimate


def fmt(m: Metric | None) -> str:
    """A rate in percent with its CI, '–' when there is none."""
    if m is None or m.value is None:
        return "–"
    ci = f" [{100 * m.ci_low:.1f}, {100 * m.ci_high:.1f}]" if m.ci_low is not None and m.ci_high is not None else ""
    return f"{100 * m.value:.1f}{ci}"


def _with_official(run: RunResult, name: str) -> str:
    official = run.metric(f"{name}_official")
    if official is None or official.value is None:
        return fmt(run.metric(name))
    return f"{fmt(run.metric(name))} / {100 * official.value:.1f}"


def _worst_perturbation(run: RunResult) -> str:
    m = run.metric("worst_perturbation")
    return f"{group_names(m)}: {fmt(m)}" if m else "–"


def _lowest_group(run: RunResult) -> str | None:
    """The lowest group when it is below the worst group (a small group, flagged): else None."""
    low, wg = run.metric("min_group_accuracy"), run.metric("worst_group_accuracy")
    if low is None or low.value is None or (wg is not None and wg.value is not None and low.value >= wg.value):
        return None
    return f"{low.group_key}={group_names(low)}{' (small)' if low.small else ''}: {fmt(low)}"


def summary_table(results: list[tuple[Path, RunResult]]) -> Table:
    runs = [r for _, r in results]
    persuasion = any(headline_arm(r) for r in runs)
    robustness = any(overall(r, "flip_rate") for r in runs)
    rag = any(r.metric("hallucination_rate") for r in runs)
    code = any(r.metric("pass@1") for r in runs)
    lowest = any(_lowest_group(r) for r in runs)
    levels = {r.settings.ci_level for r in runs}
    table = Table(title="results")
    for col in ("task", "model", "items", f"accuracy [{levels.pop():.0%} CI]" if len(levels) == 1 else "accuracy [CI]",
                "worst group", "worst-group acc.") + \
            (("lowest group, small ones included",) if lowest else ()) + \
            (("follow rate (arm)",) if persuasion else ()) + \
            (("flip rate", "worst perturbation: drop") if robustness else ()) + \
            (("hallucination rate / official", "error rate / official") if rag else ()) + \
            (("pass@1 [CI]", "robust pass@1 (all perturbations)") if code else ()):
        table.add_column(col)
    for r in runs:
        wg = r.metric("worst_group_accuracy")
        arm = headline_arm(r)
        follow = f"{fmt(r.metric('follow_rate', arm))} ({arm})" if arm else "–"
        table.add_row(r.task.name, r.model.name, str(r.counts.items), fmt(r.metric("accuracy")),
                      f"{wg.group_key}={group_names(wg)}" if wg and wg.group else "–", fmt(wg),
                      *((_lowest_group(r) or "–",) if lowest else ()),
                      *((follow,) if persuasion else ()),
                      *((fmt(overall(r, "flip_rate")), _worst_perturbation(r)) if robustness else ()),
                      *((_with_official(r, "hallucination_rate"), _with_official(r, "error_rate")) if rag else ()),
                      *((fmt(r.metric("pass@1", "original")), fmt(overall(r, "robust_pass@1"))) if code else ()))
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
