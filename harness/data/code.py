"""Code-generation problems (HumanEval, MBPP) and ReCode's released perturbed sets, paired by task id.

A problem is a prompt (signature + docstring, or problem statement + example tests), its tests
(which define `check(candidate)`), the entry point and a reference solution. A ReCode perturbed
set is another JSONL file of the same problems, each paired with its nominal problem by task id.
Three facts of the released data are handled here, each recorded in the problem's `notes`:

- A perturbation that renames the function (FuncRenameCamelCase): the reference solution and the
  tests are renamed too, token by token (HumanEval/33's test calls the function by its old name,
  so even the reference would fail with a NameError).
- Format perturbations (new_lines, tab_indent) perturb partial code: the prompt holds the first
  half of the reference and the solution the rest. Their nominal is the same partial prompt
  unperturbed, cut from the `partial` column at ReCode's marker line ("nominal_partial"). When the
  prompt was re-indented (tab_indent), the solution is re-indented the same way.
- SynonymSubstitution's release mangles the closing delimiter of 88 docstrings (`\"\"\"` -> `" " "` in
  72, `\'\'\'` -> `'"` in 16), which leaves an unterminated string no completion can repair; the
  nominal prompt's closing line is restored.
"""

from __future__ import annotations

import functools
import gzip
import io
import json
import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from harness.core.errors import HarnessError

SPLIT_MARKER = "@@this is the line to split##"  # ReCode's comment at the line where partial code is cut
FIELDS = {"id": "task_id", "prompt": "prompt", "tests": "test", "entry_point": "entry_point",
          "solution": "canonical_solution"}


class CodeProblem(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    prompt: str
    tests: str
    entry_point: str
    solution: str  # the reference completion (what follows the prompt)
    notes: tuple[str, ...] = ()  # what was adapted from the released row, and why


def read_jsonl(path: Path) -> list[tuple[int, dict[str, Any]]]:
    """(line number, row) of a .jsonl or .jsonl.gz file; a bad line is an error naming it."""
    opener = gzip.open if path.suffix == ".gz" else open
    rows = []
    try:
        with opener(path, "rb") as raw, io.TextIOWrapper(raw, encoding="utf-8") as text:  # type: ignore[arg-type]
            for number, line in enumerate(text, 1):
                if line.strip():
                    row = json.loads(line)
                    if not isinstance(row, dict):
                        raise HarnessError("a row must be a JSON object", file=path, line=number)
                    rows.append((number, row))
    except FileNotFoundError:
        raise HarnessError("file not found", file=path) from None
    except (OSError, EOFError, UnicodeDecodeError) as exc:
        raise HarnessError(f"cannot read the file ({exc})", file=path) from None
    except json.JSONDecodeError as exc:
        raise HarnessError(f"not valid JSON ({exc.msg})", file=path, line=number) from None
    if not rows:
        raise HarnessError("the file holds no rows", file=path)
    return rows


def problem_from_row(row: dict[str, Any], path: Path, line: int, fields: dict[str, str] | None = None) -> CodeProblem:
    values = {}
    for name, column in (fields or FIELDS).items():
        value = row.get(column)
        if not isinstance(value, str) or (name != "solution" and not value.strip()):
            raise HarnessError(f"column '{column}' must be a non-empty string", file=path, line=line, field=column)
        values[name] = value
    return CodeProblem(**values)


def read_problems(path: Path, fields: dict[str, str] | None = None) -> list[CodeProblem]:
    problems = [problem_from_row(row, path, line, fields) for line, row in read_jsonl(path)]
    seen: set[str] = set()
    for p in problems:
        if p.id in seen:
            raise HarnessError(f"task id '{p.id}' appears twice", file=path)
        seen.add(p.id)
    return problems


def rename(code: str, old: str, new: str) -> str:
    """Rename the identifier `old` to `new` (whole words only)."""
    return re.sub(rf"(?<![\w.]){re.escape(old)}\b", new, code) if old != new else code


def reindent_like(code: str, before: str, after: str) -> str:
    """Re-indent `code` the way `before` became `after` (two line-aligned prompts; ReCode's tab_indent,
    applied to a reference solution). A line indented by w spaces takes the indentation `after` gave
    width w, or that of the widest smaller width plus the spaces left over, learnt from the code
    after the docstring when the prompt holds code: docstring lines map 8 spaces to two tabs, which
    under a block indented by a tab and two spaces Python refuses."""
    pairs = [(old, new) for old, new in zip(before.split("\n"), after.split("\n")) if old.strip()]
    end = max((i for i, (old, _) in enumerate(pairs) if old.strip().endswith(('"""', "'''"))), default=-1)
    seen: dict[int, str] = {}
    for old, new in pairs[end + 1:] or pairs:
        seen.setdefault(len(old) - len(old.lstrip(" ")), new[: len(new) - len(new.lstrip(" \t"))])
    out = []
    for line in code.split("\n"):
        width = len(line) - len(line.lstrip(" "))
        base = max((w for w in seen if w <= width), default=None)
        out.append(line if base is None or not line.strip() else seen[base] + " " * (width - base) + line[width:])
    return "\n".join(out)


def restore_closing_quotes(prompt: str, nominal: str) -> tuple[str, str]:
    """The nominal prompt's closing docstring line, where the perturbed prompt mangled it (SynonymSubstitution
    releases `\"\"\"` as `" " "` and `\'\'\'` as `'"`). Returns the prompt and what was restored ("" if nothing)."""
    lines, nominal_lines = prompt.split("\n"), nominal.split("\n")
    last = max((i for i, line in enumerate(lines) if line.strip()), default=None)
    want = next((line for line in reversed(nominal_lines) if line.strip()), "")
    released = lines[last].strip() if last is not None else ""
    if want.strip() not in ('"""', "'''") or released == want.strip() or not released or set(released) - set("'\" "):
        return prompt, ""
    lines[last] = want
    return "\n".join(lines), f"{want.strip()} (released as {released})"


def split_partial(partial: str) -> tuple[str, str]:
    """ReCode's `partial` column: (the prompt up to the marker line, the solution after it)."""
    lines = partial.split("\n")
    marked = [i for i, line in enumerate(lines) if SPLIT_MARKER in line]
    if len(marked) != 1:
        raise ValueError(f"expected one marker line, found {len(marked)}")
    return "\n".join(lines[: marked[0]]) + "\n", "\n".join(lines[marked[0] + 1:])


@functools.lru_cache(maxsize=32)
def read_released(path: Path) -> dict[str, tuple[int, dict[str, Any]]]:
    """A released perturbed set by task id: (line, row); read once per file."""
    rows: dict[str, tuple[int, dict[str, Any]]] = {}
    for line, row in read_jsonl(path):
        tid = row.get("task_id")
        if not isinstance(tid, str):
            raise HarnessError("column 'task_id' must be a string", file=path, line=line, field="task_id")
        if tid in rows:
            raise HarnessError(f"task id {tid!r} appears twice (first at line {rows[tid][0]})", file=path,
                               line=line, field="task_id")
        rows[tid] = (line, row)
    return rows


def has_partial_code(path: Path) -> bool:
    """Whether a released set perturbs partial code (its rows carry ReCode's `partial` column)."""
    return any("partial" in row for _, row in read_released(path).values())


def released_problem(base: CodeProblem, path: Path) -> tuple[CodeProblem, CodeProblem | None]:
    """The perturbed version of `base` in a released set, adapted, and its partial-code nominal (None
    when the set has no `partial` column). A nominal problem the set lacks is an error."""
    found = read_released(path).get(base.id)
    if found is None:
        raise HarnessError(f"task id {base.id!r} is not in this perturbed set", file=path, field="task_id")
    line, row = found
    row = {**row, "test": row.get("test", base.tests)}
    perturbed, partial = _adapt(problem_from_row(row, path, line), base, row, path, line)
    return perturbed, (partial if "partial" in row else None)


def pair_perturbed(nominal: list[CodeProblem], path: Path) -> tuple[list[CodeProblem], list[CodeProblem] | None]:
    """A released perturbed set, in nominal order, and its partial-code nominal (None when it has no
    `partial` column). Every nominal problem must be perturbed, and every perturbed one nominal."""
    ids = {p.id for p in nominal}
    extra = [(line, tid) for tid, (line, _) in read_released(path).items() if tid not in ids]
    if extra:
        raise HarnessError(f"task id {extra[0][1]!r} is not in the nominal set", file=path, line=extra[0][0],
                           field="task_id")
    pairs = [released_problem(p, path) for p in nominal]
    partial = [q for _, q in pairs]
    return [p for p, _ in pairs], (None if any(q is None for q in partial) else partial)  # type: ignore[misc]


def _adapt(problem: CodeProblem, base: CodeProblem, row: dict[str, Any], path: Path,
           line: int) -> tuple[CodeProblem, CodeProblem]:
    notes = []
    prompt, tests, solution = problem.prompt, problem.tests, problem.solution
    if problem.entry_point != base.entry_point:
        tests, solution = rename(tests, base.entry_point, problem.entry_point), rename(
            solution, base.entry_point, problem.entry_point)
        notes.append(f"renamed {base.entry_point} -> {problem.entry_point} in the tests and the solution")
    prompt, restored = restore_closing_quotes(prompt, base.prompt)
    if restored:
        notes.append(f"restored the docstring's closing {restored}")
    nominal_partial = base
    if row.get("partial"):
        try:
            head, rest = split_partial(row["partial"])
        except ValueError as exc:
            raise HarnessError(f"cannot cut partial code: {exc}", file=path, line=line, field="partial") from None
        nominal_partial = base.model_copy(update={"prompt": head, "solution": rest,
                                                  "notes": ("the nominal prompt with ReCode's partial code",)})
    before = nominal_partial.prompt
    if re.search(r"^\t", prompt, re.M) and not re.search(r"^\t", before, re.M) \
            and len(before.split("\n")) == len(prompt.split("\n")):
        solution = reindent_like(solution, before, prompt)
        notes.append("solution re-indented as the perturbation re-indented the prompt")
    return problem.model_copy(update={"prompt": prompt, "tests": tests, "solution": solution,
                                      "notes": tuple(notes)}), nominal_partial
