"""Run every hostile case (tests/hostile/corpus.py) against this checkout and write the outcome table
into docs/reliability.md, between its `hostile-table` markers. The table is measured, never typed.

    PYTHONPATH=. python scripts/hostile_table.py            # run all, rewrite the table, list failures
    PYTHONPATH=. python scripts/hostile_table.py --print    # only print the table
    PYTHONPATH=. python scripts/hostile_table.py --only templates --only paths

Each case runs in a fresh temporary folder through the real command line (forked from one warm
interpreter, with a memory limit and a timeout: tests/hostile/runner.py); tests/hostile/judge.py
sorts the outcome into one column. `tests/hostile/test_hostile.py` runs the same cases as tests.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.hostile.corpus import AREAS, CASES  # noqa: E402
from tests.hostile.judge import CATEGORIES, Verdict, run_case  # noqa: E402
from tests.hostile.runner import Zygote  # noqa: E402

DOC = ROOT / "docs" / "reliability.md"
START, END = "<!-- hostile-table:start -->", "<!-- hostile-table:end -->"


def table(verdicts: dict[str, Verdict], seconds: float) -> str:
    counts = Counter((c.area, verdicts[c.id].category) for c in CASES if c.id in verdicts)
    areas = [a for a in AREAS if any(c.area == a and c.id in verdicts for c in CASES)]
    head = "| area | cases tried | " + " | ".join(CATEGORIES) + " |"
    rows = [head, "|" + "---|" * (len(CATEGORIES) + 2)]
    for area in [*areas, None]:
        tried = sum(1 for c in CASES if c.id in verdicts and (area is None or c.area == area))
        cells = [sum(n for (a, cat), n in counts.items() if cat == k and (area is None or a == area))
                 for k in CATEGORIES]
        name = "**all**" if area is None else area
        rows.append(f"| {name} | {tried} | " + " | ".join(str(n) for n in cells) + " |")
    security = sum(1 for c in CASES if c.security and c.id in verdicts)
    return "\n".join(rows) + (
        f"\n\n{len(verdicts)} cases ({security} of them security cases) in {seconds:.0f} s, measured by "
        "`scripts/hostile_table.py` on this checkout; the cases are `tests/hostile/cases_*.py`, the columns "
        "`tests/hostile/judge.py`.")


def write(text: str) -> None:
    doc = DOC.read_text(encoding="utf-8")
    if START not in doc or END not in doc:
        raise SystemExit(f"{DOC}: the markers {START} and {END} are missing")
    before, rest = doc.split(START, 1)
    after = rest.split(END, 1)[1]
    DOC.write_text(f"{before}{START}\n{text}\n{END}{after}", encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--print", action="store_true", help="print the table; leave docs/reliability.md as it is")
    parser.add_argument("--only", action="append", help="run only the cases of this area (repeatable)")
    args = parser.parse_args()
    cases = [c for c in CASES if not args.only or c.area in args.only]
    verdicts: dict[str, Verdict] = {}
    started = time.monotonic()
    zygote = Zygote()
    try:
        for case in cases:
            with tempfile.TemporaryDirectory(prefix=f"hostile-{case.id}-") as tmp:
                verdicts[case.id] = v = run_case(case, zygote, Path(tmp))
            mark = "ok  " if v.passed else "FAIL"
            print(f"{mark} {case.area:10} {case.id:40} {v.category}: {v.detail[:160]}", flush=True)
    finally:
        zygote.close()
    text = table(verdicts, time.monotonic() - started)
    print("\n" + text)
    if not args.print and not args.only:
        write(text)
        print(f"\nwritten: {DOC.relative_to(ROOT)}")
    return 0 if all(v.passed for v in verdicts.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
