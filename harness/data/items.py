"""Turn a task's dataset rows (read by `harness/data/rows.py`) into validated Items.

A row that cannot be evaluated (missing option, answer letter out of range, ...) is an error
that names the dataset file, the row and the field; rows are never dropped silently.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel, ConfigDict

from harness.config.spec import GROUP_JOIN, Task, group_key
from harness.core.errors import HarnessError
from harness.data.rows import Rows

MISSING = object()
RAG_LABELS = ["answer", "no_answer"]  # a rag item's two outcomes: target 0 = a passage answers the query
RAG_ANSWERS = ["Yes, answer is present", "I don't know"]
OPEN_LABELS = ["correct", "incorrect", "not_attempted"]  # an open answer's grades; target 0 = "correct"


class Passage(BaseModel):
    model_config = ConfigDict(frozen=True)

    number: int  # 1-based, as NoMIRACL cites them: [1] ... [10]
    title: str = ""
    text: str


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
    passages: list[Passage] = []  # rag tasks: the retrieved passages
    answers: list[str] = []  # open_answer tasks: the accepted gold aliases (never shown to templates)

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
        if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
            value = int(value)  # a CSV cell is text
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
    if s.rag is not None:
        return _rag_item(task, index, row)
    if s.open_answer is not None:
        return _open_item(task, index, row)
    assert s.choices is not None and s.target is not None
    labels = s.choices.labels

    def need(name: str) -> Any:
        value = get_field(row, name)
        if value is MISSING or value is None:
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
    if not item_id.strip():
        raise RowError(s.fields.id or "id", "the item id is empty")
    groups = row_groups(task, row)
    return Item(id=item_id, question=question, choices=choices, labels=list(labels),
                target=target, groups=groups, row=row)


def row_groups(task: Task, row: dict[str, Any]) -> dict[str, str]:
    """The row's group of every `groups:` entry; an intersection's group joins its columns' values."""
    groups = {}
    for entry in task.spec.groups:
        values = []
        for name in [entry] if isinstance(entry, str) else entry:
            value = get_field(row, name)
            if value is MISSING or value is None:
                raise RowError(name, "value is missing")
            values.append(str(value))
        groups[group_key(entry)] = GROUP_JOIN.join(values)
    return groups


def _common(task: Task, index: int, row: dict[str, Any]) -> tuple[str, str, dict[str, str]]:
    """(item id, question, groups) of a row, for task types without options."""
    s = task.spec
    question = get_field(row, s.fields.question)
    if not isinstance(question, str) or not question.strip():
        raise RowError(s.fields.question, "the question must be non-empty text")
    item_id = get_field(row, s.fields.id) if s.fields.id else index
    if item_id is MISSING or item_id is None or not str(item_id).strip():
        raise RowError(s.fields.id or "id", "value is missing")
    return str(item_id), question, row_groups(task, row)


def _open_item(task: Task, index: int, row: dict[str, Any]) -> Item:
    """An open-answer row: graded into correct / incorrect / not_attempted; target 0 = "correct"."""
    spec = task.spec.open_answer
    assert spec is not None
    item_id, question, groups = _common(task, index, row)
    gold = get_field(row, spec.answers)
    aliases = [gold] if isinstance(gold, (str, int, float)) and not isinstance(gold, bool) else gold
    if not isinstance(aliases, list) or not aliases or not all(isinstance(a, (str, int, float)) for a in aliases) \
            or not any(str(a).strip() for a in aliases):
        raise RowError(spec.answers, "expected a gold answer: a text or a non-empty list of texts")
    return Item(id=item_id, question=question, choices=[], labels=list(OPEN_LABELS), target=0, groups=groups,
                row=row, answers=[str(a) for a in aliases])


def _rag_item(task: Task, index: int, row: dict[str, Any]) -> Item:
    """A rag row as a two-outcome item: target 0 ("answer") when a passage answers the query."""
    spec = task.spec.rag
    assert spec is not None
    item_id, question, groups = _common(task, index, row)
    relevant = get_field(row, spec.relevant)
    if relevant is MISSING or relevant is None:
        raise RowError(spec.relevant, "value is missing")
    passages: list[Passage] = []
    if spec.passages:
        raw = get_field(row, spec.passages)
        if not isinstance(raw, list) or not raw:
            raise RowError(spec.passages, "expected a non-empty list of passages")
        for n, p in enumerate(raw, 1):
            if isinstance(p, str) and p.strip():
                passages.append(Passage(number=n, text=p))
            elif isinstance(p, dict) and isinstance(p.get("text"), str) and p["text"].strip():
                passages.append(Passage(number=n, title=str(p.get("title") or ""), text=p["text"]))
            else:
                raise RowError(spec.passages, f"passage {n} is neither text nor {{title, text}}")
    return Item(id=item_id, question=question, choices=list(RAG_ANSWERS), labels=list(RAG_LABELS),
                target=0 if is_one_of(relevant, spec.relevant_values) else 1, groups=groups, row=row,
                passages=passages)


def is_one_of(value: Any, wanted: list[str | bool | int]) -> bool:
    """`value in wanted`; a text cell (CSV) may also spell a wanted boolean or number: "true", "1"."""
    if value in wanted or not isinstance(value, str):
        return value in wanted
    text = value.strip()
    return any(text.lower() in ({"true", "1"} if w else {"false", "0"}) if isinstance(w, bool) else text == str(w)
               for w in wanted)


class TaskData:
    """A task's items: every row validated when opened, then read in chunks of items.

    Opening goes through all rows once: a row that cannot be evaluated, or a duplicate item id,
    is an error naming the first bad row and listing the next ones, before anything is asked of
    a model. A dataset loaded whole keeps its items from that pass; a streamed one reads its
    rows again for `chunks`, holding one chunk of items at a time.
    """

    def __init__(self, task: Task) -> None:
        self.task = task
        self.rows = Rows(task)
        self.streamed = self.rows.streamed
        self._items: list[Item] | None = None if self.streamed else []
        bad: list[tuple[int, RowError]] = []  # the first seven bad rows
        bad_count = 0
        seen: dict[str, int] = {}
        n = 0
        for n, row in enumerate(self.rows, start=1):
            try:
                item = row_to_item(task, n - 1, row)
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
                chunk.append(row_to_item(self.task, n, row))
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
