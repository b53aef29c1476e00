"""Prompt format perturbation: one layout drawn from the When Punctuation Matters grammar (SPEC §6.1).

The grammar (FormatSpread-style, AIRI-Institute/when-punctuation-matters `grammar_definition.py`)
varies only non-semantic choices: descriptor separator, field joiner, descriptor casing, option
wrapper, marker-to-text separator and enumeration symbols. Task scope: every item of a variant gets
the same format, so accuracy per format (and its spread across formats) is measurable.
"""

from __future__ import annotations

import random
import string
from typing import Literal

from pydantic import field_validator, model_validator

from harness.variants.perturbations.base import (
    Casing,
    Context,
    Params,
    Prompt,
    PromptFormat,
    Symbols,
    check_option_wrapper,
    register,
)

# SPEC §6.1 value lists, in its order.
DESCRIPTOR_SEPARATORS: tuple[str, ...] = (
    "", "::: ", ":: ", ": ", " \n\t", "\n    ", " : ", " - ", " ", "\n ", "\n\t", ":", "::", "- ", "\t",
)
# 16 entries: " -- " is listed twice in the source grammar, so it is drawn twice as often.
FIELD_JOINERS: tuple[str, ...] = (
    "", " ", "\n", " \n", " -- ", "  ", "; \n", " || ", " <sep> ", ", ", " \n ", " , ", "\n ", ". ", " ,  ", " -- ",
)
OPTION_SEPARATORS: tuple[str, ...] = ("", " ", "  ", "\t")
DESCRIPTOR_CASINGS: tuple[Casing, ...] = ("identity", "title", "upper", "lower")
OPTION_WRAPPERS: tuple[str, ...] = ("({})", "{}.", "{})", "{} )", "[{}]", "<{}>")
SYMBOL_SETS: tuple[Symbols, ...] = ("numbers", "letters", "lower", "roman_unicode", "roman_lower", "roman_upper")

_ROMAN = ((1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"),
          (50, "L"), (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I"))
_UNICODE_ROMAN = dict(zip("IVXLCDM", "ⅠⅤⅩⅬⅭⅮⅯ"))


def _roman(n: int) -> str:
    out = []
    for value, digits in _ROMAN:
        count, n = divmod(n, value)
        out.append(digits * count)
    return "".join(out)


def _roman_unicode(n: int) -> str:
    """Ⅰ..Ⅻ are single characters (U+2160..U+216B); beyond, tens in letters then a precomposed unit: ⅩⅢ."""
    if n <= 12:
        return chr(0x2160 + n - 1)
    units = n % 10
    return "".join(_UNICODE_ROMAN[c] for c in _roman(n - units)) + (chr(0x2160 + units - 1) if units else "")


def symbols_for(kind: Symbols, n: int) -> list[str]:
    """The first `n` enumeration symbols of a set: A B C / a b c / 1 2 3 / I II III / i ii iii / Ⅰ Ⅱ Ⅲ."""
    if n < 0:
        raise ValueError(f"cannot make {n} symbols")
    if kind in ("letters", "lower"):
        if n > 26:
            raise ValueError(f"{kind} symbols stop at 26 options, not {n}")
        return list((string.ascii_uppercase if kind == "letters" else string.ascii_lowercase)[:n])
    if kind == "numbers":
        return [str(i) for i in range(1, n + 1)]
    if kind == "roman_upper":
        return [_roman(i) for i in range(1, n + 1)]
    if kind == "roman_lower":
        return [_roman(i).lower() for i in range(1, n + 1)]
    if kind == "roman_unicode":
        return [_roman_unicode(i) for i in range(1, n + 1)]
    raise ValueError(f"unknown symbol set {kind!r} (known: {', '.join(SYMBOL_SETS)})")


class FormatParams(Params):
    """Each field left out (None) is drawn from the grammar; a given value is used as is."""

    targets_text = False

    kind: Literal["format"] = "format"
    descriptor_separator: str | None = None
    field_joiner: str | None = None
    descriptor_casing: Casing | None = None
    option_wrapper: str | None = None
    option_separator: str | None = None
    symbols: Symbols | None = None
    allowed_symbols: list[Symbols] | None = None  # restricts which symbol sets may be drawn

    @field_validator("option_wrapper")
    @classmethod
    def _wrapper(cls, value: str | None) -> str | None:
        return value if value is None else check_option_wrapper(value)

    @field_validator("allowed_symbols")
    @classmethod
    def _allowed(cls, value: list[Symbols] | None) -> list[Symbols] | None:
        if value is not None and (not value or len(set(value)) != len(value)):
            raise ValueError("allowed_symbols must list distinct symbol sets, at least one")
        return value

    @model_validator(mode="after")
    def _symbols_allowed(self) -> FormatParams:
        if self.symbols is not None and self.allowed_symbols is not None and self.symbols not in self.allowed_symbols:
            raise ValueError(f"symbols {self.symbols!r} is not in allowed_symbols")
        return self

    def uses_rng(self) -> bool:
        fixed = (self.descriptor_separator, self.field_joiner, self.descriptor_casing, self.option_wrapper,
                 self.option_separator)
        open_symbols = self.symbols is None and (self.allowed_symbols is None or len(self.allowed_symbols) > 1)
        return any(v is None for v in fixed) or open_symbols


@register("format", FormatParams, scope="task")
def prompt_format(prompt: Prompt, p: FormatParams, rng: random.Random, ctx: Context) -> Prompt:
    """Set the prompt format (and option symbols) from the When Punctuation Matters grammar (SPEC §6.1)."""
    # One draw per field whatever is fixed, so fixing one field leaves the others' draws unchanged.
    drawn = [rng.choice(DESCRIPTOR_SEPARATORS), rng.choice(FIELD_JOINERS), rng.choice(DESCRIPTOR_CASINGS),
             rng.choice(OPTION_WRAPPERS), rng.choice(OPTION_SEPARATORS),
             rng.choice(p.allowed_symbols or SYMBOL_SETS)]
    given = [p.descriptor_separator, p.field_joiner, p.descriptor_casing, p.option_wrapper, p.option_separator,
             p.symbols]
    sep, joiner, casing, wrapper, option_sep, symbols = (g if g is not None else d for g, d in zip(given, drawn))
    fmt = PromptFormat(descriptor_separator=sep, field_joiner=joiner, descriptor_casing=casing,
                       option_wrapper=wrapper, option_separator=option_sep)
    return prompt.model_copy(update={"format": fmt, "labels": symbols_for(symbols, len(prompt.choices))})
