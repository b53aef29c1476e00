"""Preference rows with groups: load through `datasets`, check columns and groups, split.

A row is a triple (x, y_w, y_l) of group g (SPEC.md §3.1); the group is part of the data, and
whatever identifies it to the model must be in the prompt (x_g = x ⊕ g), as in the shipped
dataset and the OpinionQA builder. A row's cluster is the unit it was sampled in (the fact that
several paraphrased pairs share); by default every row is its own cluster. Rows split three ways:
train, validation (early stopping) and eval (held out). Errors name the config file, the line
and the field.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.data.items import MISSING, get_field
from harness.train.config import TrainConfig

_BUILDERS = {"json": "json", "jsonl": "json", "csv": "csv", "parquet": "parquet"}


@dataclass(frozen=True)
class PreferenceRow:
    id: str
    group: str
    prompt: str
    chosen: str
    rejected: str
    cluster: str = ""  # "" = the row is its own cluster

    @property
    def unit(self) -> str:
        """The bootstrap cluster: the cluster column's value, else the row id."""
        return self.cluster or self.id


@dataclass(frozen=True)
class PreferenceData:
    """Rows for training, validation and evaluation, and the groups in a fixed order (their ids)."""

    groups: list[str]
    train: list[PreferenceRow]
    eval: list[PreferenceRow]
    validation: list[PreferenceRow] = field(default_factory=list)

    def counts(self, rows: list[PreferenceRow]) -> list[int]:
        """N_g: rows per group, in group order."""
        return [sum(r.group == g for r in rows) for g in self.groups]


def _load_rows(config: TrainConfig) -> list[dict[str, Any]]:
    import datasets  # heavy import, kept local

    datasets.disable_progress_bars()
    spec = config.spec.data
    path = spec.path
    is_url = re.match(r"^https?://", path) is not None
    local = None if is_url else config.resolve(path, "data", "path")
    looks_local = path.startswith((".", "/")) or Path(path).suffix.lstrip(".") in _BUILDERS
    kwargs: dict[str, Any]
    if is_url or (local is not None and (local.exists() or looks_local)):
        if local is not None and not local.is_file():
            raise config.error(f"dataset file not found: {path}", "data", "path")
        fmt = spec.format or Path(path.split("?")[0]).suffix.lstrip(".").lower()
        if fmt not in _BUILDERS:
            raise config.error(f"cannot tell the file format of '{path}'; set data.format", "data", "format")
        builder, kwargs = _BUILDERS[fmt], {"data_files": str(local) if local else path, "split": "train"}
    else:
        builder, kwargs = path, {"split": spec.split}
        if spec.name:
            kwargs["name"] = spec.name
        if spec.revision:
            kwargs["revision"] = spec.revision
    try:
        dataset = datasets.load_dataset(builder, **kwargs)
    except Exception as exc:  # datasets raises many types; all mean "could not load"
        if "corresponds to no data" in str(exc):
            raise config.error("the dataset has no rows", "data", "path") from None
        reason = " ".join(str(exc).split())[:200] or type(exc).__name__
        raise config.error(f"cannot load dataset '{path}': {reason}", "data", "path") from None
    if len(dataset) == 0:
        raise config.error("the dataset has no rows", "data", "path")
    if spec.limit is not None:
        dataset = dataset.select(range(min(spec.limit, len(dataset))))
    return dataset.to_list()


def _text(config: TrainConfig, row: dict[str, Any], index: int, key: str, column: str) -> str:
    value = get_field(row, column)
    if value is MISSING:
        raise config.error(f"row {index}: no column '{column}'", "data", "columns", key)
    if value is None or (isinstance(value, str) and not value.strip()):
        raise config.error(f"row {index}: column '{column}' is empty", "data", "columns", key)
    if not isinstance(value, (str, int, float, bool)):
        raise config.error(f"row {index}: column '{column}' holds a {type(value).__name__}, expected text",
                           "data", "columns", key)
    return str(value)


def load_preferences(config: TrainConfig) -> PreferenceData:
    """Rows of the config's data, checked, restricted to `data.groups`, split into train and eval."""
    spec = config.spec.data
    raw = _load_rows(config)
    first = raw[0]
    optional = tuple(k for k in ("id", "cluster") if getattr(spec.columns, k))
    for key in ("prompt", "chosen", "rejected", "group") + optional:
        column = getattr(spec.columns, key)
        if get_field(first, column) is MISSING:
            available = ", ".join(sorted(first))[:300]
            raise config.error(f"column '{column}' not in the dataset (columns: {available})",
                               "data", "columns", key)
    if spec.split_column is not None and get_field(first, spec.split_column) is MISSING:
        raise config.error(f"column '{spec.split_column}' not in the dataset", "data", "split_column")

    rows: list[tuple[PreferenceRow, str | None]] = []
    for i, row in enumerate(raw):
        texts = {k: _text(config, row, i, k, getattr(spec.columns, k)) for k in ("prompt", "chosen", "rejected",
                                                                                  "group")}
        row_id = _text(config, row, i, "id", spec.columns.id) if spec.columns.id else str(i)
        cluster = _text(config, row, i, "cluster", spec.columns.cluster) if spec.columns.cluster else ""
        split = None if spec.split_column is None else str(get_field(row, spec.split_column))
        rows.append((PreferenceRow(id=row_id, cluster=cluster, **texts), split))

    found = sorted({r.group for r, _ in rows})
    if spec.groups is not None:
        for j, g in enumerate(spec.groups):
            if g not in found:
                raise config.error(f"group '{g}' has no rows in the data (groups found: {', '.join(found)[:200]})",
                                   "data", "groups", j)
        groups = list(spec.groups)
        rows = [(r, s) for r, s in rows if r.group in groups]
    else:
        groups = found
    if len(groups) < 2:
        raise config.error(f"group-robust training needs at least two groups; column '{spec.columns.group}' has "
                           f"{len(groups)}", "data", "columns", "group")

    validation: list[PreferenceRow] = []
    if spec.split_column is not None:
        train = [r for r, s in rows if s == spec.train_value]
        held = [r for r, s in rows if s == spec.eval_value]
        if spec.validation_value is not None:
            validation = [r for r, s in rows if s == spec.validation_value]
    else:
        train, held = _stratified_split([r for r, _ in rows], groups, spec.eval_fraction, config.spec.seed)
    if spec.validation_fraction > 0:
        train, validation = _stratified_split(train, groups, spec.validation_fraction, config.spec.seed)
    if (spec.validation_value is not None or spec.validation_fraction > 0) and not validation:
        where = "validation_value" if spec.validation_value is not None else "validation_fraction"
        raise config.error("no validation rows", "data", where)
    data = PreferenceData(groups=groups, train=train, eval=held, validation=validation)
    for j, (g, n) in enumerate(zip(groups, data.counts(train))):
        if n == 0:
            where = ("data", "groups", j) if spec.groups is not None else ("data", "columns", "group")
            raise config.error(f"group '{g}' has no training rows", *where)
    return data


def _stratified_split(rows: list[PreferenceRow], groups: list[str], fraction: float,
                      seed: int) -> tuple[list[PreferenceRow], list[PreferenceRow]]:
    """Hold out round(fraction·C_g) of the C_g clusters of every group (at least one when fraction > 0 and
    C_g > 1), whole: a cluster's rows in that group go all one way. Without a cluster column a cluster is
    one row."""
    if fraction <= 0:
        return rows, []
    held: set[tuple[str, str]] = set()
    rng = random.Random(seed)
    for g in groups:
        units = list(dict.fromkeys(r.unit for r in rows if r.group == g))  # data order
        k = min(len(units) - 1, max(1, round(fraction * len(units)))) if len(units) > 1 else 0
        held.update((g, u) for u in rng.sample(units, k))
    keep = [r for r in rows if (r.group, r.unit) not in held]
    return keep, [r for r in rows if (r.group, r.unit) in held]


def to_dataset(rows: list[PreferenceRow], groups: list[str], *, chat: bool):  # type: ignore[no-untyped-def]
    """A `datasets.Dataset` in TRL's preference format plus `group_id` (index into `groups`) and `row_id`.

    chat=True: conversational (prompt = one user turn, answers = one assistant turn each), so TRL
    applies the tokenizer's chat template the way `harness run` renders prompts; chat=False: plain
    text, the answer on the line after the prompt."""
    import datasets

    index = {g: i for i, g in enumerate(groups)}

    def turn(role: str, text: str) -> Any:
        return [{"role": role, "content": text}] if chat else text

    return datasets.Dataset.from_list([
        {"prompt": turn("user", r.prompt if chat else r.prompt + "\n"), "chosen": turn("assistant", r.chosen),
         "rejected": turn("assistant", r.rejected), "group_id": index[r.group], "row_id": r.id}
        for r in rows])
