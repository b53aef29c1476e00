"""Build replay backends for a task: `--model replay:SOURCE` scores recorded outputs, no model.

SOURCE is either
- a dataset column (dotted names reach into objects): `replay:results.gpt-4-azure` replays the
  `gpt-4-azure` entry of each row's `results`; `replay:results.*` replays every entry of the
  first row's `results`, one run per recorded model;
- a JSONL file (path ending in .jsonl): one line per item, `{"id": ITEM_ID, "output": TEXT}`
  (optionally `"model": NAME`), matched to items by the task's id column.

Every item must have its recorded output; a missing one is an error naming the item and the source.
Replay answers one prompt per item; a variant other than `original` (a persuasion arm, a perturbed
prompt) replays only when the task's kind knows its recorded output (`TaskKind.recorded_output`:
a code task replays each variant's own reference solution).
"""

from __future__ import annotations

import json
from pathlib import Path

from harness.backends.replay import ReplayBackend
from harness.config.task import Task
from harness.core.errors import HarnessError
from harness.data.items import MISSING, Item, TaskData, get_field
from harness.variants.build import make_variants

PREFIX = "replay:"


def is_replay(model: str | None) -> bool:
    return bool(model) and model.startswith(PREFIX)  # type: ignore[union-attr]


def replay_backends(task: Task, model: str, *, limit: int | None = None) -> list[ReplayBackend]:
    source = model[len(PREFIX):]
    if not source:
        raise HarnessError("--model replay: needs a source: replay:COLUMN, replay:COLUMN.* or replay:FILE.jsonl")
    task = task.with_limit(limit)
    recorded = _read_file(Path(source)) if source.endswith(".jsonl") else None
    fields: list[tuple[str, str]] = []  # (column, model name)
    outputs: list[dict[tuple[str, str], str]] = []  # per field: (item id, variant) -> recorded text
    for items in TaskData(task).chunks():  # a streamed dataset's chunks in turn; only the texts are kept
        variants = make_variants(task, items)
        if not fields:
            fields = [(source, recorded[0] if recorded else source.rsplit(".", 1)[-1])]
            if recorded is None and source.endswith(".*"):
                fields = _recorded_models(task, source[:-2], variants[0].item.row)
            outputs = [{} for _ in fields]
        for variant in variants:
            for (field, _), table in zip(fields, outputs):
                if variant.name == "original":
                    text = _recorded(task, variant.item, field, recorded, Path(source))
                else:
                    text = None if recorded is not None else task.kind.recorded_output(task, variant, field)
                    if text is None:
                        raise task.error("replay scores one recorded output per item; this task's persuasion arms "
                                         "or perturbations have none",
                                         "persuasion" if task.spec.persuasion else "perturbations")
                table[(variant.item.id, variant.name)] = text
    if recorded is not None:
        return [ReplayBackend(outputs[0], name=recorded[0], source=source)]
    return [ReplayBackend(table, name=name, source=f"{task.spec.dataset.path}#{field}")
            for (field, name), table in zip(fields, outputs)]


def _recorded_models(task: Task, parent: str, first_row: dict) -> list[tuple[str, str]]:
    recorded = get_field(first_row, parent)
    if not isinstance(recorded, dict) or not recorded:
        raise task.error(f"replay:{parent}.*: column '{parent}' of the first row is not a mapping of "
                         "recorded outputs", "dataset", "path")
    return [(f"{parent}.{name}", str(name)) for name in recorded]


def _recorded(task: Task, item: Item, field: str, recorded: tuple[str, dict[str, str]] | None, file: Path) -> str:
    if recorded is not None:
        if item.id not in recorded[1]:
            raise HarnessError(f"no recorded output for item {item.id}", file=file, field="id")
        return recorded[1][item.id]
    text = get_field(item.row, field)
    if text is MISSING or not isinstance(text, str):
        raise task.error(f"item {item.id}: column '{field}' holds no recorded output", "dataset", "path")
    return text


def _read_file(file: Path) -> tuple[str, dict[str, str]]:
    """(model name, item id -> output) from a JSONL file of recorded outputs."""
    recorded: dict[str, str] = {}
    name = file.stem
    try:
        lines = file.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise HarnessError(f"cannot read recorded outputs ({exc})", file=file) from None
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise HarnessError(f"not JSON ({exc.msg})", file=file, line=n) from None
        if not isinstance(row, dict) or not isinstance(row.get("output"), str) or "id" not in row:
            raise HarnessError('each line needs "id" and a text "output"', file=file, line=n)
        if isinstance(row["id"], bool) or not isinstance(row["id"], (str, int)):
            raise HarnessError(f"id {json.dumps(row['id'])[:40]} is ambiguous: give item ids as text or integers",
                               file=file, line=n, field="id")
        if str(row["id"]) in recorded:
            raise HarnessError(f"item {row['id']} is recorded twice", file=file, line=n, field="id")
        recorded[str(row["id"])] = row["output"]
        name = str(row.get("model", name))
    return name, recorded
