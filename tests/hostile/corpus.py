"""Every hostile case, in the order of the table in docs/reliability.md (`scripts/hostile_table.py`)."""

from __future__ import annotations

from tests.hostile import cases_cli, cases_config, cases_data
from tests.hostile.judge import Case

CASES: list[Case] = cases_config.CASES + cases_data.CASES + cases_cli.CASES
AREAS = list(dict.fromkeys(c.area for c in CASES))

assert len({c.id for c in CASES}) == len(CASES), "case ids must be unique"
