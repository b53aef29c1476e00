"""Which files a task or training config may name.

A config file may come from a stranger, so every file it names (prompt templates, personas,
instruction lists, misspelling tables, data) is resolved with symlinks followed and must lie in
- the config file's own folder or below it,
- the project's `prompts/` and `tasks/` folders (the built-in templates, tasks and their data), or
- a folder the user allows: `--allow-path DIR` on the command line, or `HARNESS_ALLOW_PATHS`
  (folders separated by `os.pathsep`).
Anything else (`/etc/passwd`, `../../secret`, a symlink pointing out) is refused, before it is read.
"""

from __future__ import annotations

import contextlib
import functools
import os
from collections.abc import Iterable, Iterator
from pathlib import Path

# harness/builtin/{prompts,tasks} link to the checkout's prompts/ and tasks/; a built wheel holds copies of them
# (package data), so the built-in tasks and templates are found wherever harness is installed.
BUILTIN = Path(__file__).resolve().parents[1] / "builtin"
PROMPTS = (BUILTIN / "prompts").resolve()
TASKS = (BUILTIN / "tasks").resolve()  # the built-in tasks and their data, shipped with the project
ENV = "HARNESS_ALLOW_PATHS"
_allowed: list[Path] = []  # folders allowed by the running command (`--allow-path`)


@contextlib.contextmanager
def allowing(folders: Iterable[Path]) -> Iterator[None]:
    """Allow `folders` (and below) for the duration of a command."""
    added = [Path(f) for f in folders]
    _allowed.extend(added)
    try:
        yield
    finally:
        del _allowed[len(_allowed) - len(added):]


def roots(base: Path) -> list[Path]:
    """The folders files named by a config in `base` may lie in, resolved."""
    extra = [Path(p) for p in os.environ.get(ENV, "").split(os.pathsep) if p.strip()]
    return [p.expanduser().resolve() for p in (base, PROMPTS, TASKS, *_allowed, *extra)]


class OutsideError(ValueError):
    """A named file resolves outside every allowed folder."""


def confine(base: Path, relative: str) -> Path:
    """`base / relative` resolved (symlinks followed), or OutsideError if it leaves the allowed folders."""
    return _confine(base, relative, tuple(_allowed), os.environ.get(ENV, ""))


@functools.lru_cache(maxsize=1024)  # prompts are built per sample; the answer changes only with the allowed folders
def _confine(base: Path, relative: str, allowed: tuple[Path, ...], env: str) -> Path:
    path = (base / Path(relative).expanduser()).resolve()
    if any(path.is_relative_to(root) for root in roots(base)):
        return path
    raise OutsideError(
        f"'{relative}' resolves to {path}, outside the config's folder and the project's prompts/ and tasks/; "
        f"to read it, allow its folder with --allow-path DIR or {ENV}")
