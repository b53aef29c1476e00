"""Reading and writing run folders: atomic writers, `results.json` / `samples.jsonl` readers, and
finding the run folders below a path."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TextIO

from pydantic import ValidationError

from harness.core import faults
from harness.core.errors import HarnessError
from harness.results.schema import RunResult, Sample


class AtomicFile:
    """Text written to a temporary file beside `path`, renamed over `path` by `commit`: a reader
    never sees half a file, and a write that fails (full disk) leaves the previous file as it was
    and says so in one line. Written piece by piece, so a large file is never held in memory.
    Leaving the `with` block without `commit` removes the temporary file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fh: TextIO | None = None  # the temporary file is made at the first write
        self.committed = False

    def _open(self) -> TextIO:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.", suffix=".tmp")
        except OSError as exc:
            raise self._error(exc) from None
        self.tmp = Path(tmp)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; results and reports are ordinary files
        return os.fdopen(fd, "w", encoding="utf-8")

    def _error(self, exc: OSError) -> HarnessError:
        return HarnessError(f"cannot write ({exc.strerror or exc}); the previous file, if any, is untouched",
                            file=self.path)

    def write(self, text: str) -> None:
        self.fh = self.fh or self._open()
        try:
            self.fh.write(text)
        except OSError as exc:
            self.discard()
            raise self._error(exc) from None

    def commit(self) -> None:
        self.fh = self.fh or self._open()
        try:
            self.fh.flush()
            os.fsync(self.fh.fileno())
            self.fh.close()
            faults.reached(f"before_rename:{self.path.name}")
            os.replace(self.tmp, self.path)
            self.committed = True
        except OSError as exc:
            self.discard()
            raise self._error(exc) from None

    def discard(self) -> None:
        if self.fh is None:
            return
        with contextlib.suppress(OSError):  # a full disk fails the close too; the file is removed either way
            self.fh.close()
        self.tmp.unlink(missing_ok=True)

    def __enter__(self) -> AtomicFile:
        return self

    def __exit__(self, *exc: object) -> None:
        if not self.committed:
            self.discard()


def atomic_write_text(path: Path, text: str) -> None:
    with AtomicFile(path) as out:
        out.write(text)
        out.commit()


def sample_lines(samples: Iterable[Sample]) -> str:
    return "".join(s.model_dump_json() + "\n" for s in samples)


def write_run(run_dir: Path, result: RunResult, samples: Iterable[Sample]) -> None:
    atomic_write_text(run_dir / "samples.jsonl", sample_lines(samples))
    # results.json last: its presence marks a complete run.
    atomic_write_text(run_dir / "results.json", result.model_dump_json(indent=2) + "\n")


Skip = Callable[[HarnessError], None]
_READ_ERRORS = (ValidationError, ValueError, OSError)


def _invalid(file: Path, exc: Exception) -> HarnessError:
    """The one-line error for a run file that cannot be read (`results.json` or `samples.jsonl`)."""
    kind = "results" if file.name == "results.json" else "samples"
    return HarnessError(f"not a valid {kind} file ({(str(exc).splitlines() or [type(exc).__name__])[0]})", file=file)


def read_result(run_dir: Path) -> RunResult:
    """The run's `results.json`, or a one-line error naming the file."""
    file = run_dir / "results.json"
    try:
        return RunResult.model_validate_json(file.read_text(encoding="utf-8"))
    except _READ_ERRORS as exc:
        raise _invalid(file, exc) from None


def read_samples(run_dir: Path) -> list[Sample]:
    """The run's `samples.jsonl`, or a one-line error naming the file."""
    file = run_dir / "samples.jsonl"
    try:
        with file.open(encoding="utf-8") as fh:
            return [Sample.model_validate(json.loads(line)) for line in fh if line.strip()]
    except FileNotFoundError:
        raise HarnessError("missing samples.jsonl beside results.json", file=file) from None
    except _READ_ERRORS as exc:
        raise _invalid(file, exc) from None


def new_run_dir(output: Path, name: str) -> Path:
    """A fresh run folder `output/name` (or `name-2`, `name-3`, ...), created exclusively: two runs
    started in the same second never share one (the folder's name is the run id)."""
    if output.exists() and not output.is_dir():
        raise HarnessError("the output must be a folder of runs, not a file", file=output)
    output.mkdir(parents=True, exist_ok=True)
    n = 1
    while True:
        path = output / (name if n == 1 else f"{name}-{n}")
        try:
            path.mkdir()
            return path
        except FileExistsError:
            n += 1


def find_run_dirs(paths: list[Path]) -> list[Path]:
    """Run directories named directly, or found one level below a named directory."""
    found: list[Path] = []
    for p in paths:
        if (p / "results.json").is_file():
            found.append(p)
        elif p.is_dir():
            found.extend(sorted(d for d in p.iterdir() if (d / "results.json").is_file()))
        else:
            raise HarnessError("not a run directory or a folder of runs", file=p)
    return found


def load_runs(paths: list[Path]) -> list[RunResult]:
    return [run for run, _ in load_run_dirs(paths)]


def load_run_dirs(paths: list[Path], on_invalid: Skip | None = None) -> list[tuple[RunResult, Path]]:
    """Every run found under `paths` with its folder. An unreadable `results.json` is an error, or,
    given `on_invalid`, reported to it and skipped (one bad run must not stop every later report)."""
    runs = []
    for d in find_run_dirs(paths):
        try:
            runs.append((read_result(d), d))
        except HarnessError as error:
            if on_invalid is None:
                raise
            on_invalid(error)
    return runs
