"""Library output kept off the console: what vLLM, transformers, huggingface_hub, Python warnings and worker
processes print during `harness run` goes to the run's `log.txt`; `--verbose` prints it as it comes instead.

Both levels are caught. Where stdout and stderr are real file descriptors (a terminal, a pipe, a file),
descriptors 1 and 2 point at the log while the run lasts, so child processes (vLLM's engine core) and C
code write there too, and the harness's own consoles write on copies of the original descriptors. Where
they are not (an in-process test runner), `sys.stdout` and `sys.stderr` are swapped for the log.

The log starts as a hidden file in the output folder and is moved into the first run folder once runs
exist (`log.txt`, linked into every other run folder of the command); a moved file keeps receiving what
is written to it, so lines printed while engines shut down land there as well. When no run folder came
to be (an error before the first run), the hidden file stays and the error names it.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import IO, Any

from rich.console import Console

from harness.cli.console import err, out


def _fileno(stream: Any) -> int | None:
    try:
        return int(stream.fileno())
    except (AttributeError, OSError, ValueError):
        return None


class _Redirect:
    """One of stdout / stderr pointed at the log; its console writes on the original."""

    def __init__(self, name: str, console: Console, log: IO[str]) -> None:
        self.name, self.console, self.stream = name, console, getattr(sys, name)
        self.console_file = console._file  # None: the console follows sys.<name>
        self.stream.flush()
        self.fd = _fileno(self.stream)
        if self.fd is not None:  # descriptor level: children and C code too
            self.saved = os.dup(self.fd)
            self.keep: IO[str] = os.fdopen(os.dup(self.saved), "w", buffering=1,
                                           encoding=getattr(self.stream, "encoding", None) or "utf-8",
                                           errors="replace")
            os.dup2(log.fileno(), self.fd)
        else:  # Python level only
            self.keep = self.stream
            setattr(sys, name, log)
        console.file = self.keep

    def restore(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            getattr(sys, self.name).flush()
        if self.fd is not None:
            os.dup2(self.saved, self.fd)
            os.close(self.saved)
            self.keep.close()
        else:
            setattr(sys, self.name, self.stream)
        self.console.file = self.console_file  # type: ignore[assignment]


class LibraryLog:
    """A context manager: while it is open, library output goes to the log (nothing happens when `verbose`)."""

    def __init__(self, output: Path, *, verbose: bool) -> None:
        self.output, self.verbose = output, verbose
        self.path: Path | None = None
        self.runs: list[Path] = []
        self._redirects: list[_Redirect] = []

    def __enter__(self) -> LibraryLog:
        if self.verbose:
            return self
        name = f".harness-log-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}.txt"
        try:
            self.output.mkdir(parents=True, exist_ok=True)
            self.path = self.output / name
            self._file = self.path.open("a", encoding="utf-8", errors="replace", buffering=1)
        except OSError:  # an output folder we may not write: the run says so itself, with its own error
            self.path = Path(tempfile.gettempdir()) / name
            self._file = self.path.open("a", encoding="utf-8", errors="replace", buffering=1)
        self._redirects = [_Redirect("stdout", out, self._file), _Redirect("stderr", err, self._file)]
        return self

    def attach(self, run_dirs: list[Path]) -> None:
        """Move the log into the first run folder as log.txt and link it into the others."""
        if self.path is None or not run_dirs:
            return
        self.runs = run_dirs
        with contextlib.suppress(OSError):  # another file system: copied at the end instead
            os.replace(self.path, run_dirs[0] / "log.txt")
            self.path = run_dirs[0] / "log.txt"
        for d in run_dirs[1:]:
            with contextlib.suppress(OSError):  # no hard links here: copied at the end
                os.link(self.path, d / "log.txt")

    def lines(self) -> int:
        if self.path is None or not self.path.is_file():
            return 0
        with self.path.open("rb") as fh:
            return sum(1 for _ in fh)

    def __exit__(self, *exc: object) -> None:
        if self.path is None:
            return
        for r in reversed(self._redirects):
            r.restore()
        self._file.close()
        for d in self.runs:
            if not (d / "log.txt").exists():
                (d / "log.txt").write_bytes(self.path.read_bytes())
        if self.runs and self.path != self.runs[0] / "log.txt":
            self.path.unlink(missing_ok=True)
            self.path = self.runs[0] / "log.txt"
        if not self.runs and not self.lines():
            self.path.unlink(missing_ok=True)  # nothing was printed and no run holds it
            return
        count = self.lines()
        if self.runs and count:
            out.print(f"log: {self.path} ({count} lines of library output; --verbose prints them)",
                      markup=False, highlight=False, soft_wrap=True)
        elif not self.runs:
            err.print(f"harness: library output: {self.path} ({count} lines)", markup=False, highlight=False,
                      soft_wrap=True)
