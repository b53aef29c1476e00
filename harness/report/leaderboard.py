"""Which run stands for a model on a task, and which numbers the leaderboard shows for it.

- One row per model and task: of a model's runs (any backend or dtype), the newest complete run (no
  `--limit`) stands for it; with no complete run, the newest partial one, marked partial and left out of
  the ranking. Every other run of that model and task is superseded: counted, listed, never a row.
- Columns come from the metrics' metadata (harness/metrics/info.py): each run's headline metrics, in
  declaration order, labelled with display name and unit, ranked by the task's first metric with a
  direction (higher or lower is better).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from harness.metrics.info import declared, declared_order
from harness.report.format import header, unit_of
from harness.results.schema import Metric, RunResult

# Shown inside another column (the worst-group cell, beneath the valid-only rate), not as columns.
INSIDE = ("min_group_accuracy", "hallucination_rate_official", "error_rate_official")


def partial(run: RunResult) -> bool:
    """Whether the run saw only the first `--limit` items."""
    return run.settings.limit is not None


def model_key(run: RunResult) -> str:
    return run.model.name


def choose(runs: list[RunResult]) -> tuple[dict[tuple[str, str], RunResult], list[tuple[RunResult, str]]]:
    """((model, task) -> the run shown, [(superseded run, why)]), as in the module docstring."""
    by_cell: dict[tuple[str, str], list[RunResult]] = {}
    for run in runs:
        by_cell.setdefault((model_key(run), run.task.name), []).append(run)
    shown: dict[tuple[str, str], RunResult] = {}
    superseded: list[tuple[RunResult, str]] = []
    for cell, group in by_cell.items():
        newest = sorted(group, key=lambda r: (not partial(r), r.created_at, r.run_id))
        chosen = shown[cell] = newest[-1]
        for run in newest[:-1]:
            why = ("partial (--limit)" if partial(run) and not partial(chosen) else
                   f"other backend ({run.model.backend}, {run.model.dtype})"
                   if (run.model.backend, run.model.dtype) != (chosen.model.backend, chosen.model.dtype)
                   else "older")
            superseded.append((run, why))
    return shown, sorted(superseded, key=lambda p: (p[0].task.name, p[0].model.name, p[0].created_at))


def headline_arm(run: RunResult) -> str | None:
    """The arm shown on the leaderboard: PARROT's authority_wrong when present."""
    arms = run.variants("follow_rate")
    return "authority_wrong" if "authority_wrong" in arms else (arms[0] if arms else None)


def reference_variant(run: RunResult) -> str | None:
    """The variant others are compared with: the first one recorded (original prompts, neutral arm)."""
    return next((m.variant for m in run.metrics if m.variant is not None), None)


def headline(run: RunResult, arm: str | None) -> dict[str, Metric]:
    """name -> the metric shown on the leaderboard: the one about no variant; else the reference
    variant's (accuracy on original/neutral prompts); else the headline arm's (follow rate of
    authority_wrong). Group-level rows (worst group named) count when they are about no variant."""
    ref = reference_variant(run)
    out: dict[str, Metric] = {}
    for wanted in (None, ref, arm):
        for m in run.metrics:
            if m.name in INSIDE or m.name in out or m.variant != wanted:
                continue
            if m.group is not None and m.variant is None and declared(m.name) is None:
                continue
            if wanted is not None and m.group is not None:
                continue
            out[m.name] = m
    return out


class Column(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    header: str
    unit: str
    higher_is_better: bool | None
    description: str
    detail: bool = False  # a detail column: shown on demand, not in `harness run`'s summary (MetricInfo.detail)


def columns(metrics: list[dict[str, Metric]]) -> list[Column]:
    """The columns some run has, in declaration order, labelled by their metadata."""
    seen: dict[str, Metric] = {}
    for row in metrics:
        for name, m in row.items():
            seen.setdefault(name, m)
    out = []
    for name in sorted(seen, key=lambda n: (declared_order(n), n)):
        m, found = seen[name], declared(name)
        higher = found.higher_is_better if found else m.higher_is_better
        direction = {True: "higher is better", False: "lower is better", None: "no better direction"}[higher]
        what = found.description if found else m.formula
        out.append(Column(name=name, header=header(name, unit_of(m)), unit=unit_of(m), higher_is_better=higher,
                          description=f"{what} ({direction})", detail=found.detail if found else False))
    return out


def rank_column(cols: list[Column]) -> Column | None:
    """The first column with a direction: what the task's rows are ranked by."""
    return next((c for c in cols if c.higher_is_better is not None), None)


class Row(BaseModel):
    run: RunResult
    metrics: dict[str, Metric]
    rank: int | None
    partial: bool


def task_rows(runs: list[RunResult], arm_of: dict[str, str | None]) -> tuple[list[Column], Column | None, list[Row]]:
    """One task's leaderboard: columns, the ranking column, rows ranked (complete runs first, partial
    runs after them, unranked)."""
    heads = {r.run_id: headline(r, arm_of.get(r.run_id)) for r in runs}
    cols = columns(list(heads.values()))
    by = rank_column(cols)

    def key(r: RunResult) -> tuple[bool, float, str]:
        m = heads[r.run_id].get(by.name) if by else None
        v = m.value if m is not None and m.value is not None else None
        score = (-v if by and by.higher_is_better else v) if v is not None else float("inf")
        return (partial(r), score, r.model.name)

    rows, rank = [], 0
    for r in sorted(runs, key=key):
        rank += 0 if partial(r) else 1
        rows.append(Row(run=r, metrics=heads[r.run_id], rank=None if partial(r) else rank, partial=partial(r)))
    return cols, by, rows
