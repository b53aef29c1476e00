"""Orthographic perturbations: what each edit may change, and that numbers and other fields never change."""

from __future__ import annotations

import json
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.variants.perturbations import Prompt, load_misspellings
from harness.variants.perturbations.orthography import QWERTY_NEIGHBOURS
from harness.variants.perturbations.surface import CONTRACTIONS
from tests.variants.perturbations.helpers import DATA, HELM_MISSPELLINGS, digit_tokens, prompts, run, texts

PROPERTY = settings(max_examples=50, deadline=None)


def q(text: str) -> Prompt:
    return Prompt(question=text, choices=["alpha beta", "gamma 12"], labels=["A", "B"], target=1,
                  instruction="Answer with one letter.")


def edit(text: str, step: dict, seed: int = 0) -> str:
    return run(q(text), step, seed=seed).question


def is_subsequence(short: str, long: str) -> bool:
    it = iter(long)
    return all(c in it for c in short)


NUMBERS_TEXT = "Is 3.14 bigger than x2 or -5 or 1,000? Perhaps 2+2 (7) 10% and $20 matter."


@pytest.mark.parametrize("step", [
    {"kind": "keyboard_typo", "rate": 1.0}, {"kind": "char_swap", "rate": 1.0}, {"kind": "char_insert", "rate": 1.0},
    {"kind": "char_delete", "rate": 1.0}, {"kind": "casing", "mode": "upper"}, {"kind": "casing", "mode": "lower"},
    {"kind": "casing", "mode": "title"}, {"kind": "casing", "mode": "random", "rate": 1.0},
    {"kind": "whitespace", "rate": 1.0, "remove_rate": 1.0}, {"kind": "punctuation_removal"},
])
def test_numbers_untouched_at_full_rate(step):
    out = edit(NUMBERS_TEXT, step)
    assert out != NUMBERS_TEXT
    for tok in ["3.14", "x2", "-5", "1,000?", "2+2", "(7)", "10%", "$20"]:
        assert tok in out.split(), (tok, out)


@PROPERTY
@given(text=texts(5, 30), seed=st.integers(0, 10**9))
def test_keyboard_typo_replaces_letters_by_neighbours(text, seed):
    out = edit(text, {"kind": "keyboard_typo", "rate": 0.5}, seed)
    assert len(out) == len(text)
    for a, b in zip(text, out):
        if a != b:
            assert b.lower() in QWERTY_NEIGHBOURS[a.lower()] and a.isupper() == b.isupper()


def test_keyboard_typo_full_rate_changes_every_ascii_letter():
    out = edit("quick brown fox", {"kind": "keyboard_typo", "rate": 1.0})
    assert all(a != b for a, b in zip("quick brown fox", out) if a != " ")
    assert QWERTY_NEIGHBOURS["a"] == "sqwz" and QWERTY_NEIGHBOURS["m"] == "njk"


@PROPERTY
@given(text=texts(5, 30), seed=st.integers(0, 10**9))
def test_char_swap_permutes_letters_within_words(text, seed):
    out = edit(text, {"kind": "char_swap", "rate": 0.5}, seed)
    assert len(out.split()) == len(text.split())
    for a, b in zip(text.split(), out.split()):
        assert sorted(a.lower()) == sorted(b.lower())
        assert [c.isupper() for c in a] == [c.isupper() for c in b]


@PROPERTY
@given(text=texts(5, 30), seed=st.integers(0, 10**9))
def test_char_insert_and_delete_only_add_or_remove_letters(text, seed):
    inserted = edit(text, {"kind": "char_insert", "rate": 0.3}, seed)
    deleted = edit(text, {"kind": "char_delete", "rate": 0.9}, seed)
    assert is_subsequence(text, inserted) and all(c.isalpha() for c in Counter(inserted) - Counter(text))
    assert is_subsequence(deleted, text) and all(c.isalpha() for c in Counter(text) - Counter(deleted))
    assert len(deleted.split()) == len(text.split())  # never deletes a whole word


def test_char_delete_keeps_one_letter_per_word():
    out = edit("a I of the", {"kind": "char_delete", "rate": 1.0})
    assert [len(w) for w in out.split()] == [1, 1, 1, 1]


def test_casing_modes():
    text = "What is DNA's role in x2 cells? it's well-known."
    assert edit(text, {"kind": "casing", "mode": "upper"}) == "WHAT IS DNA'S ROLE IN x2 CELLS? IT'S WELL-KNOWN."
    assert edit(text, {"kind": "casing", "mode": "lower"}) == "what is dna's role in x2 cells? it's well-known."
    assert edit(text, {"kind": "casing", "mode": "title"}) == "What Is Dna's Role In x2 Cells? It's Well-known."
    flipped = edit(text, {"kind": "casing", "mode": "random", "rate": 0.5}, seed=3)
    assert flipped != text and flipped.lower() == text.lower() and "x2" in flipped.split()


@PROPERTY
@given(text=texts(5, 30), seed=st.integers(0, 10**9))
def test_whitespace_only_moves_spaces_and_never_glues_numbers(text, seed):
    out = edit(text, {"kind": "whitespace", "rate": 0.3, "remove_rate": 0.8}, seed)
    assert out.replace(" ", "") == text.replace(" ", "")
    assert not digit_tokens(text) - Counter(out.split())


def test_punctuation_removal():
    out = edit("Hello, world! Isn't it — as (see below) 3.14? Yes...", {"kind": "punctuation_removal"})
    assert out == "Hello world Isnt it as see below 3.14? Yes"
    assert edit("2 + 2 = ?", {"kind": "punctuation_removal"}) == "2 + 2 ="  # math symbols stay
    assert edit("?!", {"kind": "punctuation_removal"}) == "?!"  # never an empty question


@pytest.mark.parametrize("text,expected", [
    ("I do not know what it is.", "I don't know what it is."),
    ("Do not guess; it is not hard. It is easy.", "Don't guess; it isn't hard. It's easy."),
    ("DO NOT PANIC", "DON'T PANIC"),
    ("You cannot say what is 2 + 2.", "You can't say what's 2 + 2."),
    ("I am sure they will not.", "I'm sure they won't."),
    ("The note is 2 is not x3 do not", "The note is 2 isn't x3 don't"),
    ("Donot dothis", "Donot dothis"),
    ("I do not-5 go; it is2 over", "I do not-5 go; it is2 over"),
])
def test_contract(text, expected):
    assert edit(text, {"kind": "contractions", "mode": "contract"}) == expected


@pytest.mark.parametrize("text,expected", [
    ("I don't know what it's about.", "I do not know what it is about."),
    ("It's been a while, can't you see?", "It has been a while, cannot you see?"),
    ("I’m sure they won’t.", "I am sure they will not."),
    ("DON'T PANIC", "DO NOT PANIC"),
    ("O'Neil isn't here", "O'Neil is not here"),
    ("it's2 done and can't-3", "it's2 done and can't-3"),
])
def test_expand(text, expected):
    assert edit(text, {"kind": "contractions", "mode": "expand"}) == expected


def test_contraction_table_round_trips():
    for expanded, contracted in CONTRACTIONS.items():
        sentence = f"Then {expanded} go."
        there = edit(sentence, {"kind": "contractions", "mode": "contract"})
        assert there == "Then " + ("I" + contracted[1:] if contracted.startswith("i'") else contracted) + " go."
        back = edit(there, {"kind": "contractions", "mode": "expand"})
        assert back.lower() == sentence.lower()


def test_misspelling_with_small_file_keeps_case_and_numbers():
    assert edit("answer-2 about3 which", {"kind": "misspelling", "file": "misspellings.json", "rate": 1.0}) in (
        "answer-2 about3 wich", "answer-2 about3 whcih")
    text = "Which answer is correct about question 2? ABOUT which Probably x2"
    out = edit(text, {"kind": "misspelling", "file": "misspellings.json", "rate": 1.0})
    words = out.split()
    assert words[0] in ("Wich", "Whcih") and words[1] in ("anwser", "answr") and words[2] == "is"
    assert words[3] in ("corect", "correkt") and words[4] == "abuot" and words[5] in ("qeustion", "questoin")
    assert words[6:] == ["2?", "ABUOT", words[8], "Probaly", "x2"] and words[8] in ("wich", "whcih")


def test_load_misspellings_is_cached_and_lower_cased(tmp_path):
    table = load_misspellings(DATA / "misspellings.json")
    assert table is load_misspellings(str(DATA / "misspellings.json"))
    assert table["probably"] == ("probaly",) and "the capital" not in table
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"word": "not a list"}))
    with pytest.raises(ValueError, match="word -> list"):
        load_misspellings(bad)
    with pytest.raises(ValueError, match="cannot read"):
        load_misspellings(tmp_path / "absent.json")


@pytest.mark.skipif(not HELM_MISSPELLINGS.exists(), reason=f"{HELM_MISSPELLINGS} is absent (third-party data)")
def test_misspelling_with_helm_file():
    table = load_misspellings(HELM_MISSPELLINGS)
    assert len(table) > 3000
    text = "The government received their letter about the abandoned village on 12 March."
    prompt = q(text)
    out = run(prompt, {"kind": "misspelling", "file": str(HELM_MISSPELLINGS), "rate": 1.0}).question
    assert out != text
    for before, after in zip(text.split(), out.split()):
        word = before.strip(".")
        if word.lower() in table:
            assert after.strip(".").lower() in table[word.lower()], (before, after)
            assert after[0].isupper() == before[0].isupper()
        else:
            assert after == before
    assert "12" in out.split()


@PROPERTY
@given(prompt=prompts(), seed=st.integers(0, 10**9))
def test_options_edited_one_by_one_and_labels_kept(prompt, seed):
    out = run(prompt, {"kind": "keyboard_typo", "rate": 0.5, "on": ["options"]}, seed=seed)
    assert out.question == prompt.question and out.instruction == prompt.instruction
    assert out.labels == prompt.labels and out.target == prompt.target
    assert [len(c) for c in out.choices] == [len(c) for c in prompt.choices]
