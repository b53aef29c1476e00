"""Open-answer grading with abstention: correct / incorrect / not attempted (SimpleQA-style).

Used for hallucination in open (free-text) answering, beside NoMIRACL's closed two-phrase
format (SPEC.md §2; appendix row "binary abstain-vs-answer confusion"). A string heuristic,
not a model grader:

1. Normalise output and gold aliases SQuAD-style (`normalize`): lower-case, drop punctuation
   (ASCII and Unicode), drop the articles "a", "an", "the", collapse whitespace.
2. correct: some non-empty normalised alias occurs in the normalised output as a whole-word run
   (" paris " in " capital is paris "; "paris" in "comparison" does not count).
3. not_attempted: otherwise, when the output is empty/None or matches an abstention pattern
   (case-insensitive regex, searched in the raw output with ’ turned into ').
4. incorrect: anything else, i.e. an attempted answer without the gold.
A correct answer wrapped in a hedge ("not sure, but Paris") counts as correct, as in SimpleQA's
grader; a wrong answer next to an abstention phrase counts as not attempted (a known limit of a
pattern-based grader).
"""

from __future__ import annotations

import re
import string
import unicodedata
from collections.abc import Sequence
from typing import Literal

OpenClass = Literal["correct", "incorrect", "not_attempted"]

DEFAULT_ABSTAIN_PATTERNS: tuple[str, ...] = (
    r"\bi don'?t know\b",
    r"\bi do not know\b",
    r"\b(?:cannot|can'?t|can not) (?:answer|determine|say|tell)\b",
    r"\bnot sure\b",
    r"\bno answer\b",
    r"\bunable to\b",
    r"\bnot (?:enough|sufficient) information\b",
)

_ARTICLES = re.compile(r"\b(?:a|an|the)\b")
_ASCII_PUNCT = str.maketrans("", "", string.punctuation)


def normalize(text: str) -> str:
    """SQuAD answer normalisation: lower-case, remove punctuation, articles and extra whitespace.

    Punctuation is deleted (not replaced by a space), as in SQuAD's `normalize_answer`
    ("don't" -> "dont", "1,000" -> "1000"); Unicode punctuation (category P*) is deleted too.
    """
    text = text.lower().translate(_ASCII_PUNCT)
    text = "".join(ch for ch in text if not unicodedata.category(ch).startswith("P"))
    text = _ARTICLES.sub(" ", text)
    return " ".join(text.split())


def is_abstention(output: str | None, abstain_patterns: Sequence[str] = DEFAULT_ABSTAIN_PATTERNS) -> bool:
    """True when the output is empty or matches one of the patterns (case-insensitive)."""
    if output is None or not output.strip():
        return True
    text = output.replace("\u2019", "'")
    return any(re.search(p, text, re.IGNORECASE) for p in abstain_patterns)


def contains_gold(output: str, gold: Sequence[str]) -> bool:
    """True when a non-empty normalised gold alias is a whole-word run of the normalised output."""
    padded = f" {normalize(output)} "
    return any((alias := normalize(g)) and f" {alias} " in padded for g in gold)


def classify(output: str | None, gold: list[str],
             abstain_patterns: Sequence[str] = DEFAULT_ABSTAIN_PATTERNS) -> OpenClass:
    """Grade one open answer against its gold aliases (module docstring gives the rule)."""
    if output is not None and output.strip() and contains_gold(output, gold):
        return "correct"
    if is_abstention(output, abstain_patterns):
        return "not_attempted"
    return "incorrect"
