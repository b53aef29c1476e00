"""Which rows a run evaluates (`--limit N|FRACTION --sample first|random|stratified`) and which seed each
random draw uses (`--seed` unless the task file pins one). The rows are chosen in harness/data/sampling.py."""

from __future__ import annotations

import math
from typing import Literal

from pydantic import BaseModel, Field, model_validator

from harness.core.errors import HarnessError

Method = Literal["first", "random", "stratified"]
METHODS = ("first", "random", "stratified")


class Sampling(BaseModel):
    """A subset of the rows: the first N (or fraction), N drawn at random, or N drawn per stratum of the task's
    first group column in proportion to its size (largest remainders), seeded."""

    model_config = {"frozen": True}

    method: Method = "first"
    n: int | None = Field(None, ge=1, description="rows to keep")
    fraction: float | None = Field(None, gt=0, lt=1, description="share of the rows to keep (rounded up)")
    seed: int = 1234

    @model_validator(mode="after")
    def _one_size(self) -> Sampling:
        if (self.n is None) == (self.fraction is None):
            raise ValueError("a sample has either a row count or a fraction")
        return self

    def size(self, rows: int) -> int:
        """How many of `rows` rows the sample keeps (at least one, at most all)."""
        if self.n is not None:
            return min(self.n, rows)
        return min(rows, max(1, math.ceil(round(self.fraction * rows, 9))))  # type: ignore[operator]


def parse_limit(text: str) -> int | float:
    """`--limit`: a whole number of rows (>= 1) or a fraction strictly between 0 and 1."""
    try:
        value = float(text)
    except ValueError:
        raise HarnessError(f"'{text}' is not a number of rows or a fraction (e.g. 50 or 0.1)",
                           field="--limit") from None
    if value >= 1 and value == int(value) and value < 2**63:
        return int(value)
    if 0 < value < 1:
        return value
    raise HarnessError(f"'{text}' is neither a whole number of rows (>= 1) nor a fraction between 0 and 1",
                       field="--limit")


def make_sampling(limit: int | float | None, method: str, seed: int) -> Sampling | None:
    """The sample a run asks for; None: every row (a `--sample` without `--limit` keeps every row, reordered
    by nothing, so it needs no sample)."""
    if method not in METHODS:
        raise HarnessError(f"unknown sample '{method}' (choose {', '.join(METHODS)})", field="--sample")
    if limit is None:
        return None
    if isinstance(limit, float):
        return Sampling(method=method, fraction=limit, seed=seed)  # type: ignore[arg-type]
    return Sampling(method=method, n=limit, seed=seed)  # type: ignore[arg-type]
