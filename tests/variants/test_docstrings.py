"""Docstring perturbations touch docstring prose only: never code tokens, doctest examples or example calls."""

from __future__ import annotations

import io
import tokenize
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.data.code import read_problems
from harness.variants.docstrings import docstring_tokens, perturb_docstrings, prose_lines
from harness.variants.perturbations import Context, parse_params
from tests.conftest import SHARED_DATA, needs_shared_data

CTX = Context(item_id="x", row={}, resolve=Path)
STEPS = {
    "typos": [parse_params({"kind": "keyboard_typo", "rate": 0.3})],
    "case": [parse_params({"kind": "casing", "mode": "random"})],
    "spaces": [parse_params({"kind": "whitespace", "rate": 0.2, "remove_rate": 0.2})],
    "composed": [parse_params({"kind": "char_swap", "rate": 0.3}), parse_params({"kind": "char_delete", "rate": 0.2}),
                 parse_params({"kind": "punctuation_removal"})],
}


def _outside_docstrings(code: str) -> list[tuple[int, str]]:
    """Every token that is not a docstring, as (type, text): what a perturbation must leave alone."""
    spans = {(s, e) for s, e, _ in docstring_tokens(code)}
    lines = code.splitlines(keepends=True)
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))
    kept = []
    try:
        for tok in tokenize.generate_tokens(io.StringIO(code).readline):
            start = offsets[tok.start[0] - 1] + tok.start[1]
            end = offsets[tok.end[0] - 1] + tok.end[1]
            if not any(s >= start and e <= end for s, e in spans):
                kept.append((tok.type, tok.string))
    except (tokenize.TokenError, IndentationError):
        pass
    return kept


def _protected_lines(code: str, entry_point: str) -> list[str]:
    """Doctest lines, their expected outputs and example calls, in order."""
    out = []
    for start, end, _ in docstring_tokens(code):
        text = code[start:end]
        out += [line for line, prose in zip(text.split("\n"), prose_lines(text, (entry_point,))) if not prose]
    return out


def _check(code: str, entry_point: str, name: str, seed: int) -> str:
    new = perturb_docstrings(code, STEPS[name], seed=seed, variant=name, ctx=CTX, keep=(entry_point,))
    assert _outside_docstrings(new) == _outside_docstrings(code)
    assert _protected_lines(new, entry_point) == _protected_lines(code, entry_point)
    assert len(docstring_tokens(new)) == len(docstring_tokens(code))
    return new


@needs_shared_data("recode")
@pytest.mark.parametrize("name", sorted(STEPS))
def test_every_humaneval_prompt_keeps_its_code_and_examples(name):
    problems = read_problems(SHARED_DATA / "recode" / "HumanEval.jsonl.gz")
    changed = 0
    for p in problems:
        new = _check(p.prompt, p.entry_point, name, seed=7)
        compile(new + "    pass\n", p.id, "exec")  # still a valid program with a body
        changed += new != p.prompt
    assert changed >= 150  # the prose did change (a few docstrings are nearly all examples)


PROSE = st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\"'\\\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029",
                                       exclude_categories=("Cs", "Cc")), min_size=1, max_size=60)


@settings(max_examples=150, deadline=None)
@given(lines=st.lists(PROSE, min_size=1, max_size=4), seed=st.integers(0, 2**32), name=st.sampled_from(sorted(STEPS)),
       body=st.sampled_from(["    return x + 1\n", "    y = [i for i in range(x)]\n    return sum(y)\n", ""]))
def test_any_prose_keeps_the_code_around_it(lines, seed, name, body):
    doc = "\n    ".join(line.strip() or "." for line in lines)
    code = (f'import math\n\n\ndef f(x):\n    """{doc}\n    >>> f(1)\n    2\n    f(3) gives 4\n    """\n{body}'
            "\n\nclass K:\n    '''Holds it.'''\n    k = 'not a docstring'\n")
    _check(code, "f", name, seed)
