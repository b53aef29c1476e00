"""Surface perturbations: casing, whitespace, punctuation removal, contractions (FLUKE's orthography level,
SPEC §7.1; ReCode's ChangeCharCase and Whitespace, SPEC §5.1). Tokens holding a digit stay untouched."""

from __future__ import annotations

import random
import re
from typing import Literal

from pydantic import model_validator

from harness.variants.perturbations.base import Params, text_perturbation
from harness.variants.perturbations.text import (
    Rate,
    has_digit,
    is_punctuation,
    map_tokens,
    match_case,
    pairs,
    touches_protected,
)


class CasingParams(Params):
    kind: Literal["casing"] = "casing"
    mode: Literal["lower", "upper", "title", "random"]
    rate: Rate = 0.35  # mode random: probability per letter to flip case (NL-Augmenter ChangeCharCase's 0.35)

    @model_validator(mode="after")
    def _rate_only_random(self) -> CasingParams:
        if "rate" in self.model_fields_set and self.mode != "random":
            raise ValueError("`rate` applies only to mode random")
        return self

    def uses_rng(self) -> bool:
        return self.mode == "random"


def _title(tok: str) -> str:
    letters = [i for i, c in enumerate(tok) if c.isalpha()]
    if not letters:
        return tok
    first = letters[0]
    return tok[:first].lower() + tok[first].upper() + tok[first + 1:].lower()


@text_perturbation("casing", CasingParams)
def casing(text: str, p: CasingParams, rng: random.Random) -> str:
    """Change letter case: all lower, all upper, Title Case words, or flip letters at random (FLUKE)."""
    if p.mode == "lower":
        return map_tokens(text, str.lower)
    if p.mode == "upper":
        return map_tokens(text, str.upper)
    if p.mode == "title":
        return map_tokens(text, _title)
    return map_tokens(text, lambda tok: "".join(
        c.swapcase() if c.isalpha() and rng.random() < p.rate else c for c in tok))


class WhitespaceParams(Params):
    kind: Literal["whitespace"] = "whitespace"
    rate: Rate = 0.05  # probability per position inside a word that a space is inserted there
    remove_rate: Rate = 0.1  # probability per single space between words that it is removed


@text_perturbation("whitespace", WhitespaceParams)
def whitespace(text: str, p: WhitespaceParams, rng: random.Random) -> str:
    """Insert spaces inside words and remove spaces between words (NL-Augmenter WhitespacePerturbation)."""
    found, tail = pairs(text)
    out: list[str] = []
    prev_free = False
    for ws, tok in found:
        free = not has_digit(tok)
        if out and ws == " " and prev_free and free and rng.random() < p.remove_rate:
            ws = ""
        if free:
            tok = tok[0] + "".join((" " + c) if rng.random() < p.rate else c for c in tok[1:])
        out.append(ws + tok)
        prev_free = free
    return "".join(out) + tail


class PunctuationRemovalParams(Params):
    kind: Literal["punctuation_removal"] = "punctuation_removal"

    def uses_rng(self) -> bool:
        return False


@text_perturbation("punctuation_removal", PunctuationRemovalParams, randomized=False)
def punctuation_removal(text: str, p: PunctuationRemovalParams, rng: random.Random) -> str:
    """Remove punctuation characters (Unicode P*; not math symbols) outside numbers (FLUKE punctuation)."""
    return map_tokens(text, lambda tok: "".join(c for c in tok if not is_punctuation(c)))


_NOT = {
    "do not": "don't", "does not": "doesn't", "did not": "didn't", "is not": "isn't", "are not": "aren't",
    "was not": "wasn't", "were not": "weren't", "has not": "hasn't", "have not": "haven't", "had not": "hadn't",
    "cannot": "can't", "could not": "couldn't", "should not": "shouldn't", "would not": "wouldn't",
    "will not": "won't", "must not": "mustn't",
}
# Contracted only before another word other than "not": "I know what it is." must not become "... what it's.",
# and "they will not" becomes "they won't", not "they'll not".
_BEFORE_WORD = {
    "it is": "it's", "that is": "that's", "what is": "what's", "there is": "there's", "he is": "he's",
    "she is": "she's", "i am": "i'm", "you are": "you're", "we are": "we're", "they are": "they're",
    "i will": "i'll", "you will": "you'll", "we will": "we'll", "they will": "they'll",
}
CONTRACTIONS: dict[str, str] = {**_NOT, **_BEFORE_WORD}  # expanded -> contracted
EXPANSIONS: dict[str, str] = {v: k for k, v in CONTRACTIONS.items()}  # contracted -> expanded


def _alternation(keys: list[str], before_word: set[str]) -> re.Pattern[str]:
    alts = []
    for key in sorted(keys, key=len, reverse=True):
        alt = re.escape(key).replace("'", "['’]").replace(r"\ ", " ")
        alts.append(alt + (r"(?= +(?!not\b)\w)" if key in before_word else ""))
    return re.compile(r"(?<![\w'’])(?:" + "|".join(alts) + r")(?![\w'’])", re.IGNORECASE)


_CONTRACT = _alternation(list(CONTRACTIONS), set(_BEFORE_WORD))
_EXPAND = _alternation(list(EXPANSIONS), set())
_HAS = re.compile(r" +(?:been|got)\b", re.IGNORECASE)


class ContractionsParams(Params):
    kind: Literal["contractions"] = "contractions"
    mode: Literal["contract", "expand"]

    def uses_rng(self) -> bool:
        return False


@text_perturbation("contractions", ContractionsParams, randomized=False)
def contractions(text: str, p: ContractionsParams, rng: random.Random) -> str:
    """Contract ("do not" -> "don't") or expand ("it's" -> "it is") from a built-in list (FLUKE, NL-Augmenter)."""

    def sub(m: re.Match[str]) -> str:
        if touches_protected(text, m.start(), m.end()):
            return m[0]
        key = m[0].lower().replace("’", "'")
        if p.mode == "contract":
            new = CONTRACTIONS[key]
        else:
            new = EXPANSIONS[key]
            if new.endswith(" is") and _HAS.match(text, m.end()):
                new = new[:-3] + " has"  # "it's been" -> "it has been"
        if new.startswith("i "):
            new = "I" + new[1:]
        elif new.startswith("i'"):
            new = "I" + new[1:]
        return match_case(m[0], new)

    return (_CONTRACT if p.mode == "contract" else _EXPAND).sub(sub, text)
