"""Token helpers shared by the text families: whitespace tokens, and the rule that numbers stay intact.

A token is a maximal run of non-whitespace. Any token holding a digit ("3.14", "x2", "1,000", "-5",
"2?") is protected: no orthographic edit may change it, split it or glue it to a neighbour, since
the answer to a quiz question often hinges on it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from typing import Annotated

from pydantic import Field as Constraint

Rate = Annotated[float, Constraint(gt=0, le=1)]  # a probability per eligible unit, in (0, 1]

_PAIRS = re.compile(r"(\s*)(\S+)")
_TRAILING = re.compile(r"\s*$")


def has_digit(token: str) -> bool:
    return any(c.isdigit() for c in token)


def pairs(text: str) -> tuple[list[tuple[str, str]], str]:
    """(whitespace before, token) for every token, and the trailing whitespace."""
    found = _PAIRS.findall(text)
    tail = text[sum(len(ws) + len(tok) for ws, tok in found):]
    return found, tail


def map_tokens(text: str, edit: Callable[[str], str]) -> str:
    """Apply `edit` to every digit-free token (in order); a token edited to "" is dropped with its space."""
    found, tail = pairs(text)
    out: list[str] = []
    lead = found[0][0] if found else ""
    for ws, tok in found:
        new = tok if has_digit(tok) else edit(tok)
        if not new:
            continue
        out.append((lead if not out else ws) + new)
    return ("".join(out) or lead) + tail


def touches_protected(text: str, start: int, end: int) -> bool:
    """Whether text[start:end], widened to whole tokens, contains a digit."""
    while start > 0 and not text[start - 1].isspace():
        start -= 1
    while end < len(text) and not text[end].isspace():
        end += 1
    return has_digit(text[start:end])


def is_punctuation(char: str) -> bool:
    """Unicode punctuation (category P*); math symbols such as + = < $ % are not."""
    return unicodedata.category(char).startswith("P")


def match_case(model: str, word: str) -> str:
    """`word` cased like `model`: UPPER, Capitalised or as is."""
    if len(model) > 1 and model.isupper():
        return word.upper()
    if model[:1].isupper():
        return word[:1].upper() + word[1:]
    return word
