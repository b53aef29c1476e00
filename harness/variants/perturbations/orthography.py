"""Orthographic perturbations: typos and misspellings (casing, whitespace, punctuation: surface.py).

Sources: ReCode's docstring transforms via NL-Augmenter (ButterFingers, SwapCharacters, ChangeCharCase,
Whitespace; SPEC §5.1), PromptBench's character attacks (DeepWordBug insert/delete/swap; SPEC §7.2),
FLUKE's orthography level (spelling, capitalization, punctuation; SPEC §7.1) and HELM's misspelling
perturbation (its correct_to_misspelling.json word list).
Every edit leaves tokens that hold a digit untouched (harness/variants/perturbations/text.py).
"""

from __future__ import annotations

import json
import random
import re
import string
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Literal

from harness.variants.perturbations.base import Context, Params, Prompt, map_fields, register, text_perturbation
from harness.variants.perturbations.text import (
    Rate,
    map_tokens,
    match_case,
    touches_protected,
)

_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")


def _qwerty_neighbours() -> dict[str, str]:
    """Letters next to each letter on a staggered QWERTY keyboard (same row, row above, row below)."""
    out: dict[str, str] = {}
    for r, row in enumerate(_ROWS):
        for i, key in enumerate(row):
            near = [row[j] for j in (i - 1, i + 1) if 0 <= j < len(row)]
            if r > 0:
                near += [_ROWS[r - 1][j] for j in (i, i + 1) if j < len(_ROWS[r - 1])]
            if r < len(_ROWS) - 1:
                near += [_ROWS[r + 1][j] for j in (i - 1, i) if 0 <= j < len(_ROWS[r + 1])]
            out[key] = "".join(near)
    return out


QWERTY_NEIGHBOURS = _qwerty_neighbours()


class KeyboardTypoParams(Params):
    kind: Literal["keyboard_typo"] = "keyboard_typo"
    rate: Rate = 0.05  # probability per letter to become a keyboard neighbour


@text_perturbation("keyboard_typo", KeyboardTypoParams)
def keyboard_typo(text: str, p: KeyboardTypoParams, rng: random.Random) -> str:
    """Replace letters by a QWERTY neighbour with probability `rate` each (NL-Augmenter ButterFingers)."""

    def edit(tok: str) -> str:
        out = []
        for c in tok:
            near = QWERTY_NEIGHBOURS.get(c.lower())
            if near and rng.random() < p.rate:
                new = rng.choice(near)
                c = new.upper() if c.isupper() else new
            out.append(c)
        return "".join(out)

    return map_tokens(text, edit)


class CharSwapParams(Params):
    kind: Literal["char_swap"] = "char_swap"
    rate: Rate = 0.05  # probability per pair of adjacent letters to be swapped


@text_perturbation("char_swap", CharSwapParams)
def char_swap(text: str, p: CharSwapParams, rng: random.Random) -> str:
    """Swap adjacent distinct letters inside a word, keeping each position's case (NL-Augmenter SwapCharacters)."""

    def edit(tok: str) -> str:
        chars = list(tok)
        i = 0
        while i < len(chars) - 1:
            a, b = chars[i], chars[i + 1]
            if a.isalpha() and b.isalpha() and a.lower() != b.lower() and rng.random() < p.rate:
                chars[i], chars[i + 1] = match_case(a, b.lower()), match_case(b, a.lower())
                i += 2
            else:
                i += 1
        return "".join(chars)

    return map_tokens(text, edit)


class CharInsertParams(Params):
    kind: Literal["char_insert"] = "char_insert"
    rate: Rate = 0.05  # probability per letter that a random letter is inserted after it


@text_perturbation("char_insert", CharInsertParams)
def char_insert(text: str, p: CharInsertParams, rng: random.Random) -> str:
    """Insert a random letter after letters with probability `rate` each (PromptBench DeepWordBug insert)."""

    def edit(tok: str) -> str:
        out = []
        for c in tok:
            out.append(c)
            if c.isalpha() and rng.random() < p.rate:
                new = rng.choice(string.ascii_lowercase)
                out.append(new.upper() if c.isupper() else new)
        return "".join(out)

    return map_tokens(text, edit)


class CharDeleteParams(Params):
    kind: Literal["char_delete"] = "char_delete"
    rate: Rate = 0.05  # probability per letter to be deleted


@text_perturbation("char_delete", CharDeleteParams)
def char_delete(text: str, p: CharDeleteParams, rng: random.Random) -> str:
    """Delete letters with probability `rate` each, never a word's last letter (PromptBench DeepWordBug delete)."""

    def edit(tok: str) -> str:
        left = sum(c.isalpha() for c in tok)
        out = []
        for c in tok:
            if c.isalpha() and left > 1 and rng.random() < p.rate:
                left -= 1
                continue
            out.append(c)
        return "".join(out)

    return map_tokens(text, edit)


@lru_cache(maxsize=8)
def _load_misspellings(path: Path) -> Mapping[str, tuple[str, ...]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"cannot read misspellings file {path} ({exc})") from None
    if not isinstance(data, dict) or not all(
        isinstance(v, list) and all(isinstance(s, str) for s in v) for v in data.values()
    ):
        raise ValueError(f"misspellings file {path} must be a JSON object word -> list of misspellings")
    table: dict[str, tuple[str, ...]] = {}
    # Lower-case entries first; a capitalised entry ("Abandoned") only fills a gap, lower-cased.
    for key in sorted(data, key=lambda k: k != k.lower()):
        low = str(key).lower()
        if " " in low or not low or low in table:
            continue
        found = tuple(dict.fromkeys(s if key == low else s.lower() for s in data[key]))
        found = tuple(s for s in found if s.strip() and s.lower() != low)
        if found:
            table[low] = found
    return MappingProxyType(table)


def load_misspellings(path: str | Path) -> Mapping[str, tuple[str, ...]]:
    """Read (once, cached) a HELM-style JSON dict word -> list of misspellings, keyed by lower-case word."""
    return _load_misspellings(Path(path).resolve())


class MisspellingParams(Params):
    kind: Literal["misspelling"] = "misspelling"
    file: str  # JSON dict word -> list of real misspellings (HELM's correct_to_misspelling.json)
    rate: Rate = 0.2  # probability per word that has an entry


_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*")


@register("misspelling", MisspellingParams)
def misspelling(prompt: Prompt, p: MisspellingParams, rng: random.Random, ctx: Context) -> Prompt:
    """Replace words by a real misspelling from a list with probability `rate` each, keeping case (HELM)."""
    table = load_misspellings(ctx.resolve(p.file))

    def edit(text: str) -> str:
        def sub(m: re.Match[str]) -> str:
            options = table.get(m[0].lower())
            if not options or touches_protected(text, m.start(), m.end()) or rng.random() >= p.rate:
                return m[0]
            return match_case(m[0], rng.choice(options))

        return _WORD.sub(sub, text)

    return map_fields(prompt, p.on, edit)
