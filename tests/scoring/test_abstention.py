"""Open-answer grading: correct / incorrect / not attempted (harness.scoring.abstention)."""

from __future__ import annotations

import pytest

from harness.scoring.abstention import DEFAULT_ABSTAIN_PATTERNS, classify, is_abstention, normalize


@pytest.mark.parametrize(("text", "expected"), [
    ("The Eiffel Tower!", "eiffel tower"),  # article and punctuation dropped
    ("  A   cat,  an  owl ", "cat owl"),
    ("Don't", "dont"),  # deleted, not replaced by a space (SQuAD)
    ("1,000", "1000"),
    ("«Paris»", "paris"),  # Unicode punctuation
    ("THEATRE", "theatre"),  # "the" only as a whole word
])
def test_normalize(text: str, expected: str) -> None:
    assert normalize(text) == expected


@pytest.mark.parametrize(("output", "gold", "expected"), [
    ("Paris", ["Paris"], "correct"),
    ("The capital is Paris.", ["paris"], "correct"),
    ("It is the City of Light, i.e. PARIS", ["Paris, France", "Paris"], "correct"),  # any alias
    ("The Beatles", ["Beatles"], "correct"),  # article removed on both sides
    ("I'm not sure, but I think it is Paris.", ["Paris"], "correct"),  # hedged correct answer
    ("comparison", ["Paris"], "incorrect"),  # whole words only
    ("London", ["Paris"], "incorrect"),
    ("It was 1999.", ["1998"], "incorrect"),
    ("I don't know.", ["Paris"], "not_attempted"),
    ("I DO NOT KNOW", ["Paris"], "not_attempted"),
    ("I don’t know", ["Paris"], "not_attempted"),  # typographic apostrophe
    ("I cannot answer that from the given text.", ["Paris"], "not_attempted"),
    ("I'm unable to determine this.", ["Paris"], "not_attempted"),
    ("There is no answer in the passages.", ["Paris"], "not_attempted"),
    ("", ["Paris"], "not_attempted"),
    ("   ", ["Paris"], "not_attempted"),
    (None, ["Paris"], "not_attempted"),
    ("the", ["The"], "incorrect"),  # an alias that normalises to "" never matches
])
def test_classify_default_patterns(output: str | None, gold: list[str], expected: str) -> None:
    assert classify(output, gold) == expected


def test_custom_patterns() -> None:
    assert classify("No idea.", ["Paris"]) == "incorrect"
    assert classify("No idea.", ["Paris"], [r"\bno idea\b"]) == "not_attempted"
    assert classify("I don't know", ["Paris"], []) == "incorrect"  # no patterns: only empty output abstains
    assert is_abstention("", []) and not is_abstention("Paris", DEFAULT_ABSTAIN_PATTERNS)
