"""Build replay backends for a task: `--model replay:SOURCE` scores recorded outputs, no model.

SOURCE is either
- a dataset column (dotted names reach into objects): `replay:results.gpt-4-azure` replays the
  `gpt-4-azure` entry of each row's `results`; `replay:results.*` replays every entry of the
  first row's `results`, one run per recorded model;
- a JSONL file (path ending in .jsonl): one line per item, `{"id": ITEM_ID, "output": TEXT}`
  (optionally `"model": NAME`), matched to items by the task's id column.

Every item must have its recorded output; a missing one is an error naming the item and the source.
Replay answers one prompt per item, so tasks with persuasion arms or perturbations cannot replay.
"""

from __future__ import annotations

import json
from pathlib import Path

from harness.backends.replay import ReplayBackend
from harness.data import MISSING, get_field, load_items
from harness.errors import HarnessError
from harness.plan import plan
from harness.spec import Task
from harness.variants import make_variants

PREFIX = "replay:"


def is_replay(model: str | None) -> bool:
    return bool(model) and model.startswith(PREFIX)  # type: ignore[union-attr]


def replay_backends(task: Task, model: str, *, seed: int, limit: int | None = None) -> list[ReplayBackend]:
    source = model[len(PREFIX):]
    if not source:
        raise HarnessError("--model replay: needs a source: replay:COLUMN, replay:COLUMN.* or replay:FILE.jsonl")
    task = task.with_limit(limit)
    variants = make_variants(task, load_items(task))
    if any(v.name != "original" for v in variants):
        raise task.error("replay scores one recorded output per item; this task's persuasion arms or "
                         "perturbations have none", "persuasion" if task.spec.persuasion else "perturbations")
    keys = plan(task, variants, seed).keys
    if source.endswith(".jsonl"):
        return [_from_file(Path(source), variants, keys)]
    fields = [(source, source.rsplit(".", 1)[-1])]  # (column, model name)
    if source.endswith(".*"):
        parent = source[:-2]
        recorded = get_field(variants[0].item.row, parent)
        if not isinstance(recorded, dict) or not recorded:
            raise task.error(f"replay:{source}: column '{parent}' of the first row is not a mapping of "
                             "recorded outputs", "dataset", "path")
        fields = [(f"{parent}.{name}", str(name)) for name in recorded]
    backends = []
    for field, name in fields:
        outputs = {}
        for variant, key in zip(variants, keys):
            text = get_field(variant.item.row, field)
            if text is MISSING or not isinstance(text, str):
                raise task.error(f"item {variant.item.id}: column '{field}' holds no recorded output",
                                 "dataset", "path")
            outputs[key] = text
        backends.append(ReplayBackend(outputs, name=name, source=f"{task.spec.dataset.path}#{field}"))
    return backends


def _from_file(file: Path, variants, keys: list[str]) -> ReplayBackend:  # type: ignore[no-untyped-def]
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
        if str(row["id"]) in recorded:
            raise HarnessError(f"item {row['id']} is recorded twice", file=file, line=n, field="id")
        recorded[str(row["id"])] = row["output"]
        name = str(row.get("model", name))
    outputs = {}
    for variant, key in zip(variants, keys):
        if variant.item.id not in recorded:
            raise HarnessError(f"no recorded output for item {variant.item.id}", file=file, field="id")
        outputs[key] = recorded[variant.item.id]
    return ReplayBackend(outputs, name=name, source=str(file))
