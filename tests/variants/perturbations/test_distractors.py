"""Distractors: PromptBench StressTest and CheckList, irrelevant sentences; the original text stays a prefix."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from harness.variants.perturbations import Prompt
from harness.variants.perturbations.distractors import IRRELEVANT_SENTENCES
from tests.variants.perturbations.helpers import prompts, run

PROPERTY = settings(max_examples=50, deadline=None)

BASE = Prompt(question="What is 2 + 2?", choices=["3", "4", "5"], labels=list("ABC"), target=1,
              instruction="Answer with a letter.")


def test_stress_test():
    out = run(BASE, {"kind": "stress_test"})
    assert out.question == "What is 2 + 2?" + " and true is true" * 5
    out = run(BASE, {"kind": "stress_test", "phrase": "false_is_not_true", "repeat": 2, "on": ["instruction"]})
    assert out.instruction == "Answer with a letter. and false is not true and false is not true"
    assert out.question == BASE.question


def test_checklist_appends_random_alphanumeric_strings():
    out = run(BASE, {"kind": "checklist"})
    assert re.fullmatch(r"What is 2 \+ 2\? [A-Za-z0-9]{10}", out.question)
    three = run(BASE, {"kind": "checklist", "length": 4, "count": 3}).question
    assert re.fullmatch(r"What is 2 \+ 2\?( [A-Za-z0-9]{4}){3}", three)
    assert len({run(BASE, {"kind": "checklist"}, seed=s).question for s in range(5)}) == 5


def test_irrelevant_sentences_are_bland():
    assert len(IRRELEVANT_SENTENCES) >= 20 and len(set(IRRELEVANT_SENTENCES)) == len(IRRELEVANT_SENTENCES)
    for s in IRRELEVANT_SENTENCES:
        assert not any(c.isdigit() for c in s) and s.endswith(".") and s[0].isupper()
    seen = set()
    for seed in range(40):
        out = run(BASE, {"kind": "irrelevant_sentence"}, seed=seed).question
        assert out.startswith("What is 2 + 2? ")
        seen.add(out[len("What is 2 + 2? "):])
    assert seen <= set(IRRELEVANT_SENTENCES) and len(seen) > 5


@PROPERTY
@given(prompt=prompts(), seed=st.integers(0, 2**32))
def test_options_get_their_own_suffix_and_keep_their_text(prompt, seed):
    out = run(prompt, {"kind": "checklist", "on": ["options"]}, seed=seed)
    assert out.question == prompt.question and out.target == prompt.target and out.labels == prompt.labels
    for before, after in zip(prompt.choices, out.choices):
        assert after.startswith(before + " ") and len(after) == len(before) + 11
