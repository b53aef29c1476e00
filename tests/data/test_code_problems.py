"""Code problems and ReCode's perturbed sets: reading, pairing by task id, and the adaptations of the release."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from harness.core.errors import HarnessError
from harness.data.code import (
    CodeProblem,
    pair_perturbed,
    read_problems,
    reindent_like,
    rename,
    restore_closing_quotes,
    split_partial,
)
from harness.scoring.execution.pool import run_programs
from harness.scoring.execution.sandbox import Program, Sandbox
from tests.conftest import SHARED_DATA, needs_shared_data

RECODE = SHARED_DATA / "recode"
PERTURBED = ["ButterFingersPerturbation", "SynonymSubstitution", "ChangeCharCase", "FuncRenameCamelCase",
             "new_lines", "tab_indent"]


def _row(tid="T/0", **over):
    row = {"task_id": tid, "prompt": "def f(x):\n    \"\"\"Double x.\"\"\"\n",
           "test": "def check(c):\n    assert c(2) == 4\n", "entry_point": "f",
           "canonical_solution": "    return 2 * x\n"}
    return {**row, **over}


def _write(path: Path, rows: list, gz: bool = False) -> Path:
    text = "".join(json.dumps(r) + "\n" for r in rows)
    if gz:
        with gzip.open(path, "wt", encoding="utf-8") as f:
            f.write(text)
    else:
        path.write_text(text)
    return path


def test_reading_names_the_file_line_and_column(tmp_path):
    good = _write(tmp_path / "a.jsonl.gz", [_row(), _row("T/1")], gz=True)
    assert [p.id for p in read_problems(good)] == ["T/0", "T/1"]
    bad = _write(tmp_path / "b.jsonl", [_row(), _row("T/1", entry_point="")])
    with pytest.raises(HarnessError) as err:
        read_problems(bad)
    assert str(err.value) == f"{bad}:2: field 'entry_point': column 'entry_point' must be a non-empty string"
    broken = tmp_path / "c.jsonl"
    broken.write_text(json.dumps(_row()) + "\n{not json\n")
    with pytest.raises(HarnessError, match=r"c.jsonl:2: not valid JSON"):
        read_problems(broken)
    with pytest.raises(HarnessError, match="appears twice"):
        read_problems(_write(tmp_path / "d.jsonl", [_row(), _row()]))


def test_rename_touches_whole_identifiers_only():
    code = "def fib(n):\n    return fib(n - 1) + fibber(n) + obj.fib + 'fib'\n"
    assert rename(code, "fib", "fibNumber") == \
        "def fibNumber(n):\n    return fibNumber(n - 1) + fibber(n) + obj.fib + 'fibNumber'\n"


def test_reindent_follows_the_code_lines_of_the_prompt():
    before = 'def f(s):\n    """Doc\n        indented doc line\n    """\n    if s:\n      return 1\n'
    after = 'def f(s):\n\t"""Doc\n\t\tindented doc line\n\t"""\n\tif s:\n\t  return 1\n'
    rest = "    for c in s:\n      if c:\n        return 2\n    return 3\n"
    assert reindent_like(rest, before, after) == "\tfor c in s:\n\t  if c:\n\t    return 2\n\treturn 3\n"
    compile(after + reindent_like(rest, before, after), "x", "exec")  # no TabError


def test_closing_quotes_are_restored_only_when_mangled():
    nominal = 'def f():\n    """Doc.\n    """\n'
    assert restore_closing_quotes('def f():\n    """Dok.\n     " " "\n', nominal) == (
        'def f():\n    """Dok.\n    """\n', '""" (released as " " ")')
    assert restore_closing_quotes(nominal, nominal) == (nominal, "")
    partial = 'def f():\n    """Doc."""\n    x = 1\n'  # ends in code: nothing to restore
    assert restore_closing_quotes(partial, nominal) == (partial, "")


def test_split_partial_cuts_at_the_marker():
    assert split_partial("a\n    # print('@@this is the line to split##')\n    b\n") == ("a\n", "    b\n")
    with pytest.raises(ValueError, match="found 0"):
        split_partial("no marker")


def test_pairing_requires_every_nominal_problem_once(tmp_path):
    nominal = [CodeProblem(id="T/0", prompt="p", tests="t", entry_point="f", solution="s")]
    with pytest.raises(HarnessError, match=r"p.jsonl:1: field 'task_id': task id 'X' is not in the nominal set"):
        pair_perturbed(nominal, _write(tmp_path / "p.jsonl", [_row("X")]))
    with pytest.raises(HarnessError, match="'T/1' is not in this perturbed set"):
        pair_perturbed(nominal + [nominal[0].model_copy(update={"id": "T/1"})],
                       _write(tmp_path / "q.jsonl", [_row("T/0")]))


@needs_shared_data("recode")
def test_the_released_sets_pair_with_humaneval_and_their_adaptations_are_counted():
    nominal = read_problems(RECODE / "HumanEval.jsonl.gz")
    assert len(nominal) == 164
    notes = {}
    for name in PERTURBED:
        perturbed, partial = pair_perturbed(nominal, RECODE / f"humaneval_{name}_s0.jsonl.gz")
        assert [p.id for p in perturbed] == [p.id for p in nominal]
        notes[name] = sum(bool(p.notes) for p in perturbed)
        assert (partial is not None) == (name in ("new_lines", "tab_indent"))
        if partial is not None:
            assert sum(p.prompt != n.prompt for p, n in zip(partial, nominal)) == 127  # 37 have no partial code
    assert notes == {"ButterFingersPerturbation": 0, "SynonymSubstitution": 88, "ChangeCharCase": 0,
                     "FuncRenameCamelCase": 127, "new_lines": 0, "tab_indent": 164}  # 37 names are one word


@needs_shared_data("recode")
@pytest.mark.parametrize("name", PERTURBED)
def test_reference_solutions_pass_on_a_sample_of_every_released_set(name):
    nominal = read_problems(RECODE / "HumanEval.jsonl.gz")
    perturbed, partial = pair_perturbed(nominal, RECODE / f"humaneval_{name}_s0.jsonl.gz")
    # the adapted items first (renamed, re-indented, restored), then a spread of the others
    sample = [p for p in perturbed if p.notes][:4] + perturbed[::41] + (partial or [])[1::55]
    programs = [Program(source=p.prompt + p.solution, tests=p.tests, entry_point=p.entry_point) for p in sample]
    results = run_programs(Sandbox(), programs, workers=2, executor="local")
    assert [(p.id, r.verdict.value, r.detail) for p, r in zip(sample, results) if not r.passed] == []
