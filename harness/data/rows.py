"""Read a task's dataset rows through `datasets`: the whole table (memory-mapped Arrow), or a
stream for data larger than memory. Turning rows into items is `harness/data/items.py`'s job.

The files are checked on the way in: a missing or empty file, a file that is not UTF-8, and a
column the task names but the data lacks are errors naming the file, line or field.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from harness.config.task import Task
from harness.core.errors import HarnessError
from harness.data.jsonfiles import check_json_depth, first_invalid_line

_BUILDERS = {"json": "json", "jsonl": "json", "csv": "csv", "parquet": "parquet"}


def _source(task: Task, path: str, where: tuple[str, ...]) -> tuple[str, dict[str, Any], Path | None]:
    """Return (builder or hub id, load_dataset kwargs, local file if any)."""
    ds = task.spec.dataset
    is_url = re.match(r"^https?://", path) is not None
    local = None if is_url else task.resolve(path, *where)
    looks_local = path.startswith((".", "/")) or Path(path).suffix.lstrip(".") in _BUILDERS
    if is_url or (local is not None and (local.exists() or looks_local)):
        if local is not None and not local.is_file():
            raise task.error(f"dataset file not found: {path}", *where)
        fmt = ds.format or Path(path.split("?")[0]).suffix.lstrip(".").lower()
        if fmt not in _BUILDERS:
            raise task.error(f"cannot tell the file format of '{path}'; set dataset.format",
                             "dataset", "format")
        if local is not None and local.stat().st_size == 0:
            raise task.error(f"the dataset file is empty (no rows): {path}", *where)
        if local is not None and fmt != "parquet":
            _check_utf8(local)
        if local is not None and fmt in ("json", "jsonl"):
            check_json_depth(local, per_line=fmt == "jsonl")  # pyarrow crashes (SIGSEGV) on deep nesting
        kwargs = {"data_files": str(local) if local else path, "split": "train"}
        if ds.field and fmt in ("json", "jsonl"):
            kwargs["field"] = ds.field
        if local is not None and fmt == "csv":
            kwargs.update(_csv_as_text(local))
        return _BUILDERS[fmt], kwargs, local
    kwargs: dict[str, Any] = {"split": ds.split}
    if ds.name:
        kwargs["name"] = ds.name
    if ds.revision:
        kwargs["revision"] = ds.revision
    return path, kwargs, None


def _check_utf8(file: Path) -> None:
    """A text data file must be UTF-8: name the first line that is not (gzip files too)."""
    import codecs
    import gzip

    decoder = codecs.getincrementaldecoder("utf-8")()
    line = 1
    opener = gzip.open if file.suffix == ".gz" else open
    try:
        with opener(file, "rb") as fh:
            while chunk := fh.read(1 << 20):
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError as exc:
                    line += chunk[: max(exc.start, 0)].count(b"\n")
                    raise HarnessError(f"line {line} is not valid UTF-8 ({exc.reason}); save the file as UTF-8",
                                       file=file) from None
                line += chunk.count(b"\n")
            decoder.decode(b"", final=True)
    except (OSError, EOFError) as exc:
        raise HarnessError(f"cannot read the dataset file ({exc})", file=file) from None
    except UnicodeDecodeError:
        raise HarnessError("the file ends inside a UTF-8 character; save the file as UTF-8", file=file) from None


def _csv_as_text(file: Path) -> dict[str, Any]:
    """Read every CSV column as text, as written: without this, pandas would read option `1.50` as
    1.5 and `007` as 7 (two options, or two ids, could become equal) and `NA` or `None` as missing."""
    import datasets
    import pandas as pd

    try:
        columns = pd.read_csv(file, nrows=0).columns
    except Exception as exc:  # pandas raises many types; all mean "no header to read"
        raise HarnessError(f"cannot read the CSV header ({' '.join(str(exc).split())[:120]})", file=file) from None
    return {"features": datasets.Features({c: datasets.Value("string") for c in columns}), "keep_default_na": False}


STREAM_ABOVE_BYTES = 256 << 20  # local data files larger than this (in all) are streamed by default
ROW_BATCH = 1000  # rows decoded from Arrow at a time


class Rows:
    """A task's dataset rows, iterable as many times as needed and never held whole.

    Loaded (`datasets.load_dataset`) once: either as a memory-mapped Arrow table decoded
    `ROW_BATCH` rows at a time, or, when `streamed`, as datasets' streaming reader, which goes
    through the files again on every iteration. `limit:` keeps the first rows.
    """

    def __init__(self, task: Task) -> None:
        import datasets  # heavy import, kept local

        datasets.disable_progress_bars()
        # datasets logs a file it cannot parse before raising; the error is reported here, in one line
        datasets.utils.logging.set_verbosity(datasets.utils.logging.CRITICAL)
        self.task = task
        sources = [(subset, path, ("dataset", "path") if subset is None else ("dataset", "subsets", subset))
                   for subset, path in task.spec.dataset.sources()]
        resolved = [(subset, where, *_source(task, path, where)) for subset, path, where in sources]
        streaming = task.spec.dataset.streaming
        if streaming is None:
            files = [local for *_, local in resolved]
            streaming = all(f is not None for f in files) and \
                sum(f.stat().st_size for f in files if f is not None) > STREAM_ABOVE_BYTES
        self.streamed = streaming
        self.parts = []
        self.files = {where: local for _, where, _, _, local in resolved}
        for subset, where, builder, kwargs, _ in resolved:
            try:
                part = datasets.load_dataset(builder, streaming=streaming, **kwargs)
            except Exception as exc:  # datasets raises many types; all mean "could not load"
                raise self._load_error(exc, where) from None
            self.parts.append((subset, where, part))
        if not streaming:
            self._check_arrow()

    def _load_error(self, exc: Exception, where: tuple[str, ...]) -> HarnessError:
        if "corresponds to no data" in str(exc):
            return self.task.error("the dataset has no rows", *where)
        local = self.files.get(where)
        fmt = self.task.spec.dataset.format or (local.suffix.lstrip(".") if local else "")
        bad = first_invalid_line(local, per_line=fmt == "jsonl") if local and fmt in ("json", "jsonl") else None
        if bad is not None:
            return HarnessError(f"line {bad[0]}: not JSON ({bad[1]})", file=local)
        while exc.__cause__ is not None:  # datasets wraps the parser's own words
            exc = exc.__cause__  # type: ignore[assignment]
        reason = " ".join(str(exc).split())[:200] or type(exc).__name__
        path = where[-1] if where[-2] == "subsets" else self.task.spec.dataset.path
        return self.task.error(f"cannot load dataset '{path}': {reason}", *where)

    def _check_names(self, subset: str | None, where: tuple[str, ...], names: set[str]) -> set[str]:
        """The columns a part's rows will have (with `subset`), checked against the task's fields."""
        if subset is not None:
            if "subset" in names:
                raise self.task.error("the rows already have a `subset` column; `subsets` would overwrite it", *where)
            names = names | {"subset"}
        _check_columns(self.task, names)
        return names

    def _check_arrow(self) -> None:
        columns = None
        for subset, where, part in self.parts:
            names = self._check_names(subset, where, set(part.column_names))
            if columns is not None and names != columns:
                raise self.task.error(f"the subsets have different columns ({sorted(columns ^ names)})",
                                      "dataset", "subsets")
            columns = names
        if sum(len(part) for *_, part in self.parts) == 0:
            raise self.task.error("the dataset has no rows", "dataset", "path")

    def _streamed_rows(self, subset: str | None, where: tuple[str, ...], part: Any) -> Iterator[dict[str, Any]]:
        rows = iter(part)
        for n in itertools.count():
            try:
                row = next(rows)
            except StopIteration:
                return
            except Exception as exc:  # a malformed line met while streaming
                raise self._load_error(exc, where) from None
            if n == 0:  # a stream's columns are known once its first row is read
                self._check_names(subset, where, set(row))
            yield row if subset is None else {**row, "subset": subset}

    def _arrow_rows(self, subset: str | None, where: tuple[str, ...], part: Any) -> Iterator[dict[str, Any]]:
        for batch in part.iter(batch_size=ROW_BATCH):
            names = list(batch)
            for values in zip(*batch.values()):
                row = dict(zip(names, values))
                yield row if subset is None else {**row, "subset": subset}

    def __iter__(self) -> Iterator[dict[str, Any]]:
        limit = self.task.spec.limit
        read = self._streamed_rows if self.streamed else self._arrow_rows
        rows = itertools.chain.from_iterable(read(*p) for p in self.parts)
        empty = True
        for row in itertools.islice(rows, limit):
            empty = False
            yield row
        if empty:
            raise self.task.error("the dataset has no rows", "dataset", "path")


def _columns(task: Task) -> list[tuple[str, tuple[str | int, ...]]]:
    s = task.spec
    cols = [(s.fields.question, ("fields", "question"))]
    if s.fields.id:
        cols.append((s.fields.id, ("fields", "id")))
    cols += task.kind.columns(s)
    for i, entry in enumerate(s.groups):
        for j, name in enumerate([entry] if isinstance(entry, str) else entry):
            cols.append((name, ("groups", i) if isinstance(entry, str) else ("groups", i, j)))
    if s.stats.class_column:
        cols.append((s.stats.class_column, ("stats", "class_column")))
    return cols


def _check_columns(task: Task, available: set[str]) -> None:
    for name, path in _columns(task):
        if name.split(".")[0] not in available:
            raise task.error(f"column '{name}' is not in the dataset (columns: {', '.join(sorted(available))})",
                             *path)
