"""The columns that hold a task's answer, and the row prompt templates see without them.

A template reads the dataset row as `row`; the gold answer must never reach a prompt by
accident, so the target columns (each kind names them: `target.field`, `open_answer.answers`, `rag.relevant`) are
removed from it unless the task sets `prompt.row_targets: true`. Dotted names reach into nested
objects as `get_field` reads them (a key may itself hold dots).
"""

from __future__ import annotations

from typing import Any

from harness.config.task import Task
from harness.config.templates import TemplateRow


def target_columns(task: Task) -> list[str]:
    """The columns holding the answer, as the task's kind names them."""
    return task.kind.target_columns(task.spec)


def template_row(task: Task, row: dict[str, Any]) -> dict[str, Any]:
    """`row` as prompt templates see it."""
    if task.spec.prompt.row_targets:
        return row
    return _without(row, target_columns(task))


def _without(row: dict[str, Any], dotted: list[str], path: str = "") -> TemplateRow:
    here: set[str] = set()
    below: dict[str, list[str]] = {}
    for name in dotted:
        parts = name.split(".")
        here.add(name)
        for k in range(1, len(parts)):
            below.setdefault(".".join(parts[:k]), []).append(".".join(parts[k:]))
    out = {k: v for k, v in row.items() if k not in here}
    for key, rest in below.items():
        if isinstance(out.get(key), dict):
            out[key] = _without(out[key], rest, f"{path}{key}.")
    return TemplateRow(out, frozenset(here), path)
