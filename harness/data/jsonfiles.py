"""Checks on JSON data files: nesting too deep, refused before a parser sees it; the first line that
is not JSON, named after the parser refused the file.

pyarrow's JSON reader (which `datasets` uses) crashes the process with SIGSEGV on a document
nested about 10,000 deep, and Python's json raises RecursionError near 1,000: a hostile data file
must not take the run down without a word. This reads the file once, line by line: a line whose
opening brackets (`[`, `{`) are few cannot pass the limit, so only lines holding many are looked
at closely, with their strings removed (a JSON string holds no raw newline, so each line can be
tokenised alone).
"""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

from harness.core.errors import HarnessError

MAX_DEPTH = 500
_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"')
_BRACKETS = re.compile(rb"[\[\]{}]")


def check_json_depth(file: Path, *, per_line: bool, limit: int = MAX_DEPTH) -> None:
    """Raise a HarnessError naming the line where nesting passes `limit`. `per_line`: every line is a
    document of its own (JSON lines); otherwise one document may span lines (gzip files too)."""
    opener = gzip.open if file.suffix == ".gz" else open
    depth = 0
    try:
        with opener(file, "rb") as fh:
            for n, line in enumerate(fh, 1):
                if per_line:
                    depth = 0
                if depth + line.count(b"[") + line.count(b"{") <= limit:  # cannot pass the limit on this line
                    if not per_line:
                        depth = max(depth + _delta(line), 0)
                    continue
                depth = _scan(_STRING.sub(b'""', line), depth, limit, file, n)
    except (OSError, EOFError) as exc:
        raise HarnessError(f"cannot read the dataset file ({exc})", file=file) from None


def _delta(line: bytes) -> int:
    """Opened minus closed brackets outside strings."""
    if b'"' in line:
        line = _STRING.sub(b'""', line)
    return line.count(b"[") + line.count(b"{") - line.count(b"]") - line.count(b"}")


def _scan(line: bytes, depth: int, limit: int, file: Path, n: int) -> int:
    for m in _BRACKETS.finditer(line):
        depth += 1 if m.group() in (b"[", b"{") else -1
        if depth > limit:
            raise HarnessError(f"line {n}: JSON nested deeper than {limit} levels", file=file)
    return max(depth, 0)


def first_invalid_line(file: Path, *, per_line: bool) -> tuple[int, str] | None:
    """(line, problem) of the first text that is not JSON, or None (read only after a parser failed).
    A `.json` file holding several documents is read as JSON lines, as `datasets` reads it."""
    opener = gzip.open if file.suffix == ".gz" else open
    try:
        with opener(file, "rt", encoding="utf-8") as fh:
            if not per_line:
                try:
                    json.load(fh)
                    return None
                except json.JSONDecodeError as exc:
                    if exc.msg != "Extra data":
                        return exc.lineno, exc.msg
                fh.seek(0)
            for n, line in enumerate(fh, 1):
                try:
                    json.loads(line) if line.strip() else None
                except json.JSONDecodeError as exc:
                    return n, exc.msg
    except (OSError, EOFError, UnicodeDecodeError, RecursionError):
        return None
    return None
