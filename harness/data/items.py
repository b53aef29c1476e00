"""Turn a task's dataset rows (read by `harness/data/rows.py`) into validated Items (each task kind
says how, in harness/kinds/), and the helpers kinds share to read a row.

A row that cannot be evaluated (missing option, answer letter out of range, ...) is an error
that names the dataset file, the row and the field; rows are never dropped silently.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel, ConfigDict

from harness.config.spec import GROUP_JOIN, group_key
from harness.config.task import Task
from harness.core.errors import HarnessError
from harness.data.rows import Rows

MISSING = object()


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
    answers: list[str] = []  # accepted reference answers, for kinds graded against text (never shown to templates)
    facts: dict[str, Any] = {}  # what a kind's metric families read per item (BBQ's unknown option, a BLS share)

    @property
    def target_label(self) -> str:
        return self.labels[self.target]


def get_field(row: dict[str, Any], dotted: str) -> Any:
    """`row[a][b]` for "a.b"; a key that itself holds dots ("Mistral-7B-v0.2") is found too."""
    value: Any = row
    parts = dotted.split(".")
    while parts:
        if not isinstance(value, dict):
            return MISSING
        for k in range(len(parts), 0, -1):  # the longest key first
            key = ".".join(parts[:k])
            if key in value:
                value, parts = value[key], parts[k:]
                break
        else:
            return MISSING
    return value


class RowError(ValueError):
    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


def row_groups(task: Task, row: dict[str, Any]) -> dict[str, str]:
    """The row's group of every `groups:` entry (an intersection's group joins its columns' values),
    and its class under the name of `stats.class_column` when the task names one."""
    groups = {}
    class_column = task.spec.stats.class_column
    for entry in task.spec.groups + ([class_column] if class_column else []):
        values = []
        for name in [entry] if isinstance(entry, str) else entry:
            value = get_field(row, name)
            if value is MISSING or value is None:
                raise RowError(name, "value is missing")
            values.append(str(value))
        groups[group_key(entry)] = GROUP_JOIN.join(values)
    return groups


def common_fields(task: Task, index: int, row: dict[str, Any]) -> tuple[str, str, dict[str, str]]:
    """(item id, question, groups) of a row, for task types without options."""
    s = task.spec
    question = get_field(row, s.fields.question)
    if not isinstance(question, str) or not question.strip():
        raise RowError(s.fields.question, "the question must be non-empty text")
    return item_id(task, index, row), question, row_groups(task, row)


def item_id(task: Task, index: int, row: dict[str, Any]) -> str:
    """The row's id column (`fields.id`), or its 0-based position."""
    if not task.spec.fields.id:
        return str(index)
    value = get_field(row, task.spec.fields.id)
    if value is MISSING or value is None:
        raise RowError(task.spec.fields.id, "value is missing")
    if not str(value).strip():
        raise RowError(task.spec.fields.id, "the item id is empty")
    return str(value)


class TaskData:
    """A task's items: every row validated when opened, then read in chunks of items.

    Opening goes through all rows once: a row that cannot be evaluated, or a duplicate item id,
    is an error naming the first bad row and listing the next ones, before anything is asked of
    a model. A dataset loaded whole keeps its items from that pass; a streamed one reads its
    rows again for `chunks`, holding one chunk of items at a time.
    """

    def __init__(self, task: Task) -> None:
        self.task = task
        self.kind = task.kind
        self.rows = Rows(task)
        self.streamed = self.rows.streamed
        self._items: list[Item] | None = None if self.streamed else []
        bad: list[tuple[int, RowError]] = []  # the first seven bad rows
        bad_count = 0
        seen: dict[str, int] = {}
        n = 0
        for n, row in enumerate(self.rows, start=1):
            try:
                item = self.kind.item(task, n - 1, row)
            except RowError as exc:
                bad_count += 1
                if len(bad) < 7:
                    bad.append((n, exc))
                continue
            if item.id in seen:
                raise HarnessError(f"row {n}: duplicate item id '{item.id}' (first at row {seen[item.id]})",
                                   file=task.spec.dataset.label, field=task.spec.fields.id or "id")
            seen[item.id] = n
            if self._items is not None:
                self._items.append(item)
        if bad:
            first_row, err = bad[0]
            more = ""
            if bad_count > 1:
                rows_listed = ", ".join(str(r) for r, _ in bad[1:6]) + (", ..." if bad_count > 6 else "")
                more = f" ({bad_count - 1} more bad rows: {rows_listed})"
            raise HarnessError(f"row {first_row}: {err.problem}{more}", file=task.spec.dataset.label,
                               field=err.field)
        self.count = n

    def chunks(self) -> Iterator[list[Item]]:
        """All items in dataset order: one chunk when loaded whole, `chunk_items` at a time when streamed."""
        if self._items is not None:
            yield self._items
            return
        size = self.task.spec.dataset.chunk_items
        chunk: list[Item] = []
        for n, row in enumerate(self.rows):
            try:
                chunk.append(self.kind.item(self.task, n, row))
            except RowError as exc:  # the files changed since they were checked
                raise HarnessError(f"row {n + 1}: {exc.problem}", file=self.task.spec.dataset.label,
                                   field=exc.field) from None
            if len(chunk) == size:
                yield chunk
                chunk = []
        if chunk:
            yield chunk


def load_items(task: Task) -> list[Item]:
    """Every item of a task, in memory (small datasets, tests, dry runs)."""
    return [item for chunk in TaskData(task).chunks() for item in chunk]
