"""A perturbation: write some letters as look-alike digits (e -> 3, o -> 0, ...), each with probability `rate`."""

from __future__ import annotations

import random
from typing import Literal

from pydantic import Field

from harness.variants.perturbations.base import Params, text_perturbation

LEET = {"a": "4", "e": "3", "i": "1", "o": "0", "s": "5", "t": "7"}


class LeetspeakParams(Params):
    kind: Literal["leetspeak"] = "leetspeak"
    rate: float = Field(0.5, ge=0.0, le=1.0, description="chance that each replaceable letter is replaced")


@text_perturbation("leetspeak", LeetspeakParams, description="letters as look-alike digits (e -> 3, o -> 0)")
def leetspeak(text: str, params: LeetspeakParams, rng: random.Random) -> str:
    return "".join(LEET[c.lower()] if c.lower() in LEET and rng.random() < params.rate else c for c in text)
