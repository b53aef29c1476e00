"""Every hostile case of the corpus (tests/hostile/corpus.py) through the real command line: exit 2
and one line naming file, line and field, or the correct result. scripts/hostile_table.py runs the
same cases to write the table in docs/reliability.md."""

from __future__ import annotations

import pytest

from tests.hostile.corpus import CASES
from tests.hostile.judge import run_case
from tests.hostile.runner import Zygote


@pytest.fixture(scope="module")
def zygote():
    z = Zygote()
    yield z
    z.close()


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id, marks=[pytest.mark.integration] if c.model else [])
                                  for c in CASES])
def test_hostile_case(case, zygote, tmp_path):
    verdict = run_case(case, zygote, tmp_path)
    assert verdict.passed, f"{verdict.category}: {verdict.detail}"
