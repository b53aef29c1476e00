"""Format perturbation: values come from SPEC §6.1's grammar, one format per task, the answer mapping kept."""

from __future__ import annotations

import ast
import re
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.variants.perturbations import PromptFormat, symbols_for
from harness.variants.perturbations.format_grammar import (
    DESCRIPTOR_CASINGS,
    DESCRIPTOR_SEPARATORS,
    FIELD_JOINERS,
    OPTION_SEPARATORS,
    OPTION_WRAPPERS,
    SYMBOL_SETS,
)
from tests.variants.perturbations.helpers import ROOT, prompts, run

PROPERTY = settings(max_examples=50, deadline=None)
SPEC = ROOT.parent / "shared" / "SPEC.md"
_QUOTED = re.compile(r"'((?:[^'\\]|\\.)*)'")


def spec_bullets() -> list[str]:
    text = Path(SPEC).read_text(encoding="utf-8")
    section = text[text.index("### 6.1"):text.index("### 6.2")]
    return section.split("\n* ")[1:]


def quoted(bullet: str) -> list[str]:
    return [ast.literal_eval(f"'{m}'") for m in _QUOTED.findall(bullet)]


@pytest.mark.skipif(not SPEC.exists(), reason=f"{SPEC} is absent")
def test_grammar_lists_are_the_specs():
    sep, joiner, option_sep, casing, wrapper, _symbols = spec_bullets()
    assert list(DESCRIPTOR_SEPARATORS) == quoted(sep) and len(DESCRIPTOR_SEPARATORS) == 15
    assert list(FIELD_JOINERS) == quoted(joiner) and len(FIELD_JOINERS) == 16  # " -- " twice, as in the source
    assert list(OPTION_SEPARATORS) == quoted(option_sep)
    assert [c.lower() for c in casing.split(":", 1)[1].strip(" .\n").split(", ")] == list(DESCRIPTOR_CASINGS)
    assert [w.replace("x", "{}") for w in re.findall(r'"([^"]*)"', wrapper)] == list(OPTION_WRAPPERS)


def test_symbol_sets():
    assert symbols_for("letters", 4) == ["A", "B", "C", "D"]
    assert symbols_for("lower", 3) == ["a", "b", "c"]
    assert symbols_for("numbers", 5) == ["1", "2", "3", "4", "5"]
    assert symbols_for("roman_upper", 9) == ["I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX"]
    assert symbols_for("roman_lower", 4) == ["i", "ii", "iii", "iv"]
    assert symbols_for("roman_unicode", 4) == ["\u2160", "\u2161", "\u2162", "\u2163"]
    assert symbols_for("roman_unicode", 14)[11:] == ["\u216b", "\u2169\u2162", "\u2169\u2163"]
    assert symbols_for("roman_upper", 49)[-1] == "XLIX" and symbols_for("roman_unicode", 20)[-1] == "\u2169\u2169"
    with pytest.raises(ValueError, match="26"):
        symbols_for("letters", 27)
    for kind in SYMBOL_SETS:
        assert len(set(symbols_for(kind, 20))) == 20


@PROPERTY
@given(prompt=prompts(), seed=st.integers(0, 2**32))
def test_sampled_format_is_in_the_grammar_and_keeps_the_answer(prompt, seed):
    out = run(prompt, {"kind": "format"}, seed=seed)
    fmt = out.format
    assert fmt.descriptor_separator in DESCRIPTOR_SEPARATORS
    assert fmt.field_joiner in FIELD_JOINERS
    assert fmt.descriptor_casing in DESCRIPTOR_CASINGS
    assert fmt.option_wrapper in OPTION_WRAPPERS
    assert fmt.option_separator in OPTION_SEPARATORS
    assert any(out.labels == symbols_for(kind, len(prompt.choices)) for kind in SYMBOL_SETS)
    assert out.choices == prompt.choices and out.target == prompt.target
    assert out.question == prompt.question and out.instruction == prompt.instruction


def test_every_grammar_value_is_reachable():
    seen: dict[str, set[object]] = {k: set() for k in ("sep", "join", "case", "wrap", "opt", "sym")}
    prompt = run_prompt()
    for seed in range(600):
        out = run(prompt, {"kind": "format"}, seed=seed)
        f = out.format
        for key, value in zip(seen, (f.descriptor_separator, f.field_joiner, f.descriptor_casing, f.option_wrapper,
                                     f.option_separator, out.labels[1])):
            seen[key].add(value)
    assert seen["sep"] == set(DESCRIPTOR_SEPARATORS) and seen["join"] == set(FIELD_JOINERS)
    assert seen["case"] == set(DESCRIPTOR_CASINGS) and seen["wrap"] == set(OPTION_WRAPPERS)
    assert seen["opt"] == set(OPTION_SEPARATORS) and seen["sym"] == {"B", "b", "2", "II", "ii", "\u2161"}


def run_prompt():
    from harness.variants.perturbations import Prompt

    return Prompt(question="Which planet is largest?", choices=["Mars", "Jupiter", "Venus", "Earth"],
                  labels=list("ABCD"), target=1, instruction="Answer with the option's symbol.")


def test_task_scope_gives_every_item_the_same_format():
    prompt = run_prompt()
    outs = [run(prompt, {"kind": "format"}, seed=7, item_id=f"item-{i}") for i in range(10)]
    assert all(o.format == outs[0].format and o.labels == outs[0].labels for o in outs)
    others = {run(prompt, {"kind": "format"}, seed=7, variant=f"format_{i}").format for i in range(10)}
    assert len(others) > 1  # another variant, another format


def test_fixed_fields_are_used_and_do_not_shift_the_other_draws():
    prompt = run_prompt()
    free = run(prompt, {"kind": "format"}, seed=11)
    fixed = run(prompt, {"kind": "format", "option_wrapper": "<{}>", "descriptor_separator": " :: "}, seed=11)
    assert fixed.format.option_wrapper == "<{}>" and fixed.format.descriptor_separator == " :: "
    assert fixed.format.field_joiner == free.format.field_joiner
    assert fixed.format.option_separator == free.format.option_separator
    assert fixed.format.descriptor_casing == free.format.descriptor_casing and fixed.labels == free.labels


def test_fully_fixed_format_is_deterministic():
    step = {"kind": "format", "descriptor_separator": ": ", "field_joiner": "\n", "descriptor_casing": "upper",
            "option_wrapper": "({})", "option_separator": " ", "symbols": "roman_lower"}
    outs = [run(run_prompt(), step, seed=s) for s in range(5)]
    assert all(o == outs[0] for o in outs)
    assert outs[0].format == PromptFormat(descriptor_casing="upper", option_wrapper="({})")
    assert outs[0].labels == ["i", "ii", "iii", "iv"] and outs[0].format.marker(outs[0].labels[1]) == "(ii)"


def test_allowed_symbols_restrict_the_draw():
    counts = Counter(tuple(run(run_prompt(), {"kind": "format", "allowed_symbols": ["letters", "numbers"]},
                               seed=s).labels) for s in range(60))
    assert set(counts) == {("A", "B", "C", "D"), ("1", "2", "3", "4")}


@PROPERTY
@given(prompt=prompts(), wrapper=st.sampled_from(OPTION_WRAPPERS), option_sep=st.sampled_from(OPTION_SEPARATORS))
def test_only_wrapper_and_separator_changed_leaves_options_and_labels(prompt, wrapper, option_sep):
    step = {"kind": "format", "descriptor_separator": ": ", "field_joiner": "\n", "descriptor_casing": "identity",
            "option_wrapper": wrapper, "option_separator": option_sep, "symbols": "letters"}
    out = run(prompt, step)
    assert out.choices == prompt.choices and out.labels == prompt.labels and out.target == prompt.target
    assert out.format.marker(out.labels[out.target]) == wrapper.replace("{}", prompt.labels[prompt.target])
