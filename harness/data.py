"""Load a task's dataset through `datasets` and turn rows into validated Items.

A row that cannot be evaluated (missing option, answer letter out of range, ...) is an error
that names the dataset file, the row and the field; rows are never dropped silently.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from harness.errors import HarnessError
from harness.spec import Task

_BUILDERS = {"json": "json", "jsonl": "json", "csv": "csv", "parquet": "parquet"}
_MISSING = object()


class Item(BaseModel):
    """One base question, before any variant is made from it."""

    model_config = ConfigDict(frozen=True)

    id: str
    question: str
    choices: list[str]
    labels: list[str]
    target: int  # index into choices
    groups: dict[str, str]
    row: dict[str, Any]  # the raw row, available to templates as `row`

    @property
    def target_label(self) -> str:
        return self.labels[self.target]


def get_field(row: dict[str, Any], dotted: str) -> Any:
    value: Any = row
    for part in dotted.split("."):
        if not isinstance(value, dict) or part not in value:
            return _MISSING
        value = value[part]
    return value


def _source(task: Task) -> tuple[str, dict[str, Any], Path | None]:
    """Return (builder or hub id, load_dataset kwargs, local file if any)."""
    ds = task.spec.dataset
    is_url = re.match(r"^https?://", ds.path) is not None
    local = None if is_url else task.resolve(ds.path)
    looks_local = ds.path.startswith((".", "/")) or Path(ds.path).suffix.lstrip(".") in _BUILDERS
    if is_url or (local is not None and (local.exists() or looks_local)):
        if local is not None and not local.is_file():
            raise task.error(f"dataset file not found: {ds.path}", "dataset", "path")
        fmt = ds.format or Path(ds.path.split("?")[0]).suffix.lstrip(".").lower()
        if fmt not in _BUILDERS:
            raise task.error(f"cannot tell the file format of '{ds.path}'; set dataset.format",
                             "dataset", "format")
        return _BUILDERS[fmt], {"data_files": str(local) if local else ds.path, "split": "train"}, local
    kwargs: dict[str, Any] = {"split": ds.split}
    if ds.name:
        kwargs["name"] = ds.name
    if ds.revision:
        kwargs["revision"] = ds.revision
    return ds.path, kwargs, None


def load_rows(task: Task) -> list[dict[str, Any]]:
    import datasets  # heavy import, kept local

    builder, kwargs, local = _source(task)
    datasets.disable_progress_bars()
    try:
        dataset = datasets.load_dataset(builder, **kwargs)
    except Exception as exc:  # datasets raises many types; all mean "could not load"
        if "corresponds to no data" in str(exc):
            raise task.error("the dataset has no rows", "dataset", "path") from None
        reason = " ".join(str(exc).split())[:200] or type(exc).__name__
        raise task.error(f"cannot load dataset '{task.spec.dataset.path}': {reason}",
                         "dataset", "path") from None
    _check_columns(task, set(dataset.column_names))
    if len(dataset) == 0:
        raise task.error("the dataset has no rows", "dataset", "path")
    if task.spec.limit is not None:
        dataset = dataset.select(range(min(task.spec.limit, len(dataset))))
    return dataset.to_list()


def _columns(task: Task) -> list[tuple[str, tuple[str | int, ...]]]:
    s = task.spec
    cols = [(s.fields.question, ("fields", "question")), (s.target.field, ("target", "field"))]
    if s.fields.id:
        cols.append((s.fields.id, ("fields", "id")))
    if s.choices.field:
        cols.append((s.choices.field, ("choices", "field")))
    if s.choices.block:
        cols.append((s.choices.block, ("choices", "block")))
    for i, name in enumerate(s.choices.fields or []):
        cols.append((name, ("choices", "fields", i)))
    for i, name in enumerate(s.groups):
        cols.append((name, ("groups", i)))
    return cols


def _check_columns(task: Task, available: set[str]) -> None:
    for name, path in _columns(task):
        if name.split(".")[0] not in available:
            raise task.error(f"column '{name}' is not in the dataset (columns: {', '.join(sorted(available))})",
                             *path)


def parse_option_block(text: str, labels: list[str]) -> list[str]:
    """Split '(A)opt one\\n(B)opt two...' into option texts, in label order."""
    starts = []
    pos = 0
    for label in labels:
        m = re.compile(r"\(" + re.escape(label) + r"\)").search(text, pos)
        if m is None:
            raise ValueError(f"option block has no '({label})'")
        starts.append((m.start(), m.end()))
        pos = m.end()
    ends = [s for s, _ in starts[1:]] + [len(text)]
    return [text[b:e].strip() for (_, b), e in zip(starts, ends)]


def _target_index(value: Any, fmt: str, labels: list[str], choices: list[str]) -> int:
    if fmt == "letter":
        letter = str(value).strip()
        if letter not in labels:
            raise ValueError(f"answer '{letter}' is not one of the labels {labels}")
        return labels.index(letter)
    if fmt == "index":
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < len(choices):
            raise ValueError(f"answer index {value!r} is not in 0..{len(choices) - 1}")
        return value
    text = str(value).strip()
    matches = [i for i, c in enumerate(choices) if c.strip() == text]
    if len(matches) != 1:
        raise ValueError(f"answer text {text!r} matches {len(matches)} options, expected exactly 1")
    return matches[0]


class RowError(ValueError):
    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


def row_to_item(task: Task, index: int, row: dict[str, Any]) -> Item:
    """Validate one row; raise RowError(field, problem) if it cannot be evaluated."""
    s = task.spec
    labels = s.choices.labels

    def need(name: str) -> Any:
        value = get_field(row, name)
        if value is _MISSING or value is None:
            raise RowError(name, "value is missing")
        return value

    question = need(s.fields.question)
    if not isinstance(question, str) or not question.strip():
        raise RowError(s.fields.question, "question must be non-empty text")
    if s.choices.field:
        choices = need(s.choices.field)
        if not isinstance(choices, list) or not all(isinstance(c, (str, int, float)) for c in choices):
            raise RowError(s.choices.field, "expected a list of option texts")
        choices = [str(c) for c in choices]
    elif s.choices.block:
        try:
            choices = parse_option_block(str(need(s.choices.block)), labels)
        except ValueError as exc:
            raise RowError(s.choices.block, str(exc)) from None
    else:
        choices = [str(need(name)) for name in s.choices.fields or []]
    choice_field = s.choices.field or s.choices.block or ",".join(s.choices.fields or [])
    if len(choices) != len(labels):
        raise RowError(choice_field, f"has {len(choices)} options but the task has "
                                     f"{len(labels)} labels {labels}")
    if any(not c.strip() for c in choices):
        raise RowError(choice_field, "an option text is empty")
    try:
        target = _target_index(need(s.target.field), s.target.format, labels, choices)
    except ValueError as exc:
        raise RowError(s.target.field, str(exc)) from None
    item_id = str(need(s.fields.id)) if s.fields.id else str(index)
    groups = {name: str(need(name)) for name in s.groups}
    return Item(id=item_id, question=question, choices=choices, labels=list(labels),
                target=target, groups=groups, row=row)


def load_items(task: Task) -> list[Item]:
    rows = load_rows(task)
    items: list[Item] = []
    bad: list[tuple[int, RowError]] = []
    for i, row in enumerate(rows):
        try:
            items.append(row_to_item(task, i, row))
        except RowError as exc:
            bad.append((i + 1, exc))
    if bad:
        first_row, err = bad[0]
        more = ""
        if len(bad) > 1:
            rows_listed = ", ".join(str(r) for r, _ in bad[1:6]) + (", ..." if len(bad) > 6 else "")
            more = f" ({len(bad) - 1} more bad rows: {rows_listed})"
        raise HarnessError(f"row {first_row}: {err.problem}{more}", file=task.spec.dataset.path,
                           field=err.field)
    seen: dict[str, int] = {}
    for n, item in enumerate(items, start=1):
        if item.id in seen:
            raise HarnessError(f"row {n}: duplicate item id '{item.id}' (first at row {seen[item.id]})",
                               file=task.spec.dataset.path, field=task.spec.fields.id or "id")
        seen[item.id] = n
    return items
