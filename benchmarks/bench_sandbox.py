"""Sandboxed execution: the cost of the sandbox per program, and programs per second.

    python benchmarks/bench_sandbox.py [--data ../shared/data/recode/HumanEval.jsonl.gz] [--workers 2] [--repeat 20]

1. overhead per program: a trivial program and its test run one at a time (a) in the sandbox,
   under each isolation mode this machine offers, and (b) as a bare `python -c` subprocess of the
   same source (how unsandboxed harnesses run it); the difference is the sandbox's cost. Wall
   time and the CPU time of the child processes, medians over --repeat runs.
2. throughput: HumanEval's 164 reference solutions (prompt + canonical solution + tests) through
   the pool with --workers threads, under the default isolation; programs per second, wall clock.
The machine's load average is printed with the numbers: on a shared machine it moves them.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from harness.data.code import read_problems  # noqa: E402
from harness.scoring.execution.pool import run_programs  # noqa: E402
from harness.scoring.execution.sandbox import Program, Sandbox, namespaces_available  # noqa: E402

TRIVIAL = Program(source="def add(a, b):\n    return a + b\n",
                  tests="def check(candidate):\n    assert candidate(1, 2) == 3\n", entry_point="add")


def _timed(fn) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    fn()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return time.perf_counter() - start, cpu


def _bare() -> None:
    source = TRIVIAL.source + "\n" + TRIVIAL.tests + f"\ncheck({TRIVIAL.entry_point})\n"
    subprocess.run([sys.executable, "-S", "-c", source], check=True, stdin=subprocess.DEVNULL)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", default=str(ROOT.parent / "shared/data/recode/HumanEval.jsonl.gz"))
    parser.add_argument("--workers", type=int, default=os.cpu_count())
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    modes = ["rlimits"] + (["namespaces"] if namespaces_available() else [])
    rows = {"bare python -S subprocess": [_timed(_bare) for _ in range(args.repeat)]}
    for mode in modes:
        sandbox = Sandbox(isolation=mode)  # type: ignore[arg-type]
        rows[f"sandbox ({mode})"] = [_timed(lambda s=sandbox: s.run(TRIVIAL)) for _ in range(args.repeat)]
    bare_wall = statistics.median(w for w, _ in rows["bare python -S subprocess"])
    bare_cpu = statistics.median(c for _, c in rows["bare python -S subprocess"])
    print(f"\n1. one trivial program at a time, median of {args.repeat}")
    print(f"{'how':34} {'wall ms':>8} {'child CPU ms':>13} {'overhead wall ms':>17} {'overhead CPU ms':>16}")
    for name, times in rows.items():
        wall, cpu = statistics.median(w for w, _ in times), statistics.median(c for _, c in times)
        print(f"{name:34} {wall * 1e3:8.1f} {cpu * 1e3:13.1f} {(wall - bare_wall) * 1e3:17.1f} "
              f"{(cpu - bare_cpu) * 1e3:16.1f}")
    problems = read_problems(Path(args.data))
    programs = [Program(source=p.prompt + p.solution, tests=p.tests, entry_point=p.entry_point) for p in problems]
    sandbox = Sandbox()
    wall, cpu = 0.0, 0.0
    results = []

    def go() -> None:
        results.extend(run_programs(sandbox, programs, workers=args.workers, executor="local"))

    wall, cpu = _timed(go)
    passed = sum(r.passed for r in results)
    print(f"\n2. {len(programs)} HumanEval reference solutions, {args.workers} workers, isolation {sandbox.isolation}")
    print(f"{len(programs) / wall:.1f} programs/s ({wall:.1f} s wall, {cpu / len(programs) * 1e3:.0f} ms child CPU "
          f"per program), {passed}/{len(programs)} passed")
    print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
