"""A hostile case, and the verdict on what the harness did with it.

A case is what a hostile or careless user does: files written into a fresh folder, then steps
(harness commands, several at once for races, or Python that damages a file between commands).
The last command is judged against what the case expects:
- `Error(fragments)`: exit 2 and exactly one line on stderr, `harness: error: ...`, holding every
  fragment (the file, line and field it names, and the problem);
- `Ok(check)`: exit 0, and `check(folder, outcome)` finds nothing wrong (None, or what is wrong).
Every outcome falls in one category, the columns of the table in docs/reliability.md.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tests.hostile.runner import Outcome, Zygote, run_fresh

# Categories, in the table's order; the first two are what a case expects.
CLEAN_ERROR = "clean errors"
CORRECT = "correct results"
TRACEBACK = "tracebacks or crashes"
NOT_ONE_LINE = "errors not on one line"
SECURITY = "security failures"
WRONG = "wrong results"
UNBOUNDED = "unbounded resource use"
CATEGORIES = (CLEAN_ERROR, CORRECT, TRACEBACK, NOT_ONE_LINE, SECURITY, WRONG, UNBOUNDED)
PASSED = (CLEAN_ERROR, CORRECT)

Check = Callable[[Path, Outcome], "str | None"]


@dataclass(frozen=True)
class Error:
    """Exit 2, one line holding every fragment."""

    fragments: tuple[str, ...]

    def __init__(self, *fragments: str) -> None:
        object.__setattr__(self, "fragments", fragments)


@dataclass(frozen=True)
class Ok:
    """Exit 0, and the check finds nothing wrong."""

    check: Check


@dataclass(frozen=True)
class Parallel:
    """Commands started at the same moment."""

    argvs: tuple[tuple[str, ...], ...]


Step = Sequence[str] | Parallel | Callable[[Path], None]


@dataclass(frozen=True)
class Case:
    id: str
    area: str  # the row of the table: task file, paths, templates, data, cli, model, replay, runs, export, cache
    steps: tuple[Step, ...]  # "{d}" in an argument is the case's folder
    expect: Error | Ok
    files: dict[str, str | bytes] = field(default_factory=dict)
    security: bool = False  # a wrong outcome leaks or runs something: a security failure
    env: dict[str, str | None] = field(default_factory=dict)
    fresh: bool = False  # a new interpreter (for settings libraries read when imported)
    model: bool = False  # loads the embedded model
    timeout: float = 120.0


@dataclass(frozen=True)
class Verdict:
    category: str
    detail: str

    @property
    def passed(self) -> bool:
        return self.category in PASSED


def _fill(argv: Sequence[str], folder: Path) -> list[str]:
    return [a.replace("{d}", str(folder)) for a in argv]


def run_case(case: Case, zygote: Zygote, folder: Path) -> Verdict:
    for name, content in case.files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content.replace("{d}", str(folder)), encoding="utf-8")
    outcomes: list[Outcome] = []
    for i, step in enumerate(case.steps):
        if callable(step):
            step(folder)
            continue
        argvs = [_fill(a, folder) for a in step.argvs] if isinstance(step, Parallel) else [_fill(step, folder)]
        env = {k: v if v is None else v.replace("{d}", str(folder)) for k, v in case.env.items()}
        if case.fresh:
            outcomes = [run_fresh(a, folder, env, case.timeout) for a in argvs]
        else:
            outcomes = zygote.run(argvs, folder, env, case.timeout)
        last = i == max(k for k, s in enumerate(case.steps) if not callable(s))
        if not last and any(o.rc != 0 for o in outcomes):
            return Verdict(WRONG, f"a preparing step failed: {_show(outcomes[0])}")
    return judge(case, outcomes, folder)


def judge(case: Case, outcomes: list[Outcome], folder: Path) -> Verdict:
    for o in outcomes:
        text = o.stdout + o.stderr
        if o.timed_out:
            return Verdict(UNBOUNDED, f"still running after {o.seconds} s")
        if "MemoryError" in text:
            return Verdict(UNBOUNDED, f"ran out of memory: {_show(o)}")
        if "Traceback (most recent call last)" in text or o.signal is not None or o.rc not in (0, 2):
            return Verdict(TRACEBACK, f"exit {o.rc}, signal {o.signal}: {_show(o)}")
    o = outcomes[-1]
    lines = [line for line in o.stderr.splitlines() if line.strip()]
    if isinstance(case.expect, Error):
        if o.rc == 0:
            return Verdict(SECURITY if case.security else WRONG, f"accepted (exit 0): {_show(o)}")
        if len(lines) != 1 or not lines[0].startswith("harness: error: "):
            return Verdict(NOT_ONE_LINE, f"{len(lines)} lines: {_show(o)}")
        missing = [f for f in case.expect.fragments if f.replace("{d}", str(folder)) not in lines[0]]
        if missing:
            return Verdict(SECURITY if case.security else WRONG, f"the error lacks {missing}: {lines[0]}")
        return Verdict(CLEAN_ERROR, lines[0])
    if any(x.rc != 0 for x in outcomes):
        bad = next(x for x in outcomes if x.rc != 0)
        return Verdict(SECURITY if case.security else WRONG, f"refused (exit {bad.rc}): {_show(bad)}")
    problem = case.expect.check(folder, o)
    if problem:
        return Verdict(SECURITY if case.security else WRONG, problem)
    return Verdict(CORRECT, _show(o))


def _show(o: Outcome) -> str:
    text = (o.stderr.strip() or o.stdout.strip()).splitlines()
    return " | ".join(text[-3:])[:600] if text else "(no output)"
