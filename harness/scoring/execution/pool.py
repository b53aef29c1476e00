"""Run many programs at once: on this machine's cores, or on a Ray cluster when one is reachable.

Locally, `workers` threads (default: the CPU count) each drive one sandboxed subprocess at a
time, so at most `workers` programs run at once and the harness process itself forks nothing
heavy (its loaded model is never copied into a pool worker). With `ray`, every program is a Ray
task (one CPU each) run by the harness installed on the cluster's nodes; a node without user
namespaces runs it under rlimits and says so in the Execution's `isolation`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from typing import Literal

from harness.core.errors import HarnessError
from harness.scoring.execution.sandbox import Execution, Limits, Program, Sandbox

OnDone = Callable[[int, Execution], None]
Executor = Literal["auto", "local", "ray"]


def run_programs(sandbox: Sandbox, programs: Sequence[Program], *, workers: int | None = None,
                 executor: Executor = "auto", on_done: OnDone | None = None) -> list[Execution]:
    """Every program's Execution, in order; `on_done(index, execution)` as each finishes."""
    if executor == "ray" or (executor == "auto" and ray_reachable()):
        return _run_on_ray(sandbox, programs, on_done)
    results: list[Execution | None] = [None] * len(programs)
    with ThreadPoolExecutor(max_workers=workers or os.cpu_count() or 1) as pool:
        futures = {pool.submit(sandbox.run, p): i for i, p in enumerate(programs)}
        for future in as_completed(futures):
            i = futures[future]
            results[i] = future.result()
            if on_done:
                on_done(i, results[i])  # type: ignore[arg-type]
    return [r for r in results if r is not None]


def ray_reachable() -> bool:
    """Ray is installed and either already initialised here or pointed at a cluster (RAY_ADDRESS)."""
    try:
        import ray
    except ImportError:
        return False
    return ray.is_initialized() or bool(os.environ.get("RAY_ADDRESS"))


def run_one(limits: dict, isolation: str, program: dict) -> dict:
    """One program on whichever machine runs this (a Ray task's body): plain data in and out."""
    sandbox = Sandbox(Limits(**limits), isolation="auto" if isolation == "namespaces" else "rlimits")
    return sandbox.run(Program(**program)).model_dump(mode="json")


def _run_on_ray(sandbox: Sandbox, programs: Sequence[Program], on_done: OnDone | None) -> list[Execution]:
    try:
        import ray
    except ImportError:
        raise HarnessError("executor 'ray' needs Ray (pip install 'ray>=2.9')", field="executor") from None
    if not ray.is_initialized():
        ray.init(address=os.environ.get("RAY_ADDRESS"), log_to_driver=False)
    task = ray.remote(num_cpus=1)(run_one)
    limits = sandbox.limits.model_dump()
    refs = [task.remote(limits, sandbox.isolation, p.model_dump()) for p in programs]
    index = {ref: i for i, ref in enumerate(refs)}
    results: list[Execution | None] = [None] * len(programs)
    pending = list(refs)
    while pending:
        done, pending = ray.wait(pending, num_returns=1)
        for ref in done:
            i = index[ref]
            results[i] = Execution(**ray.get(ref))
            if on_done:
                on_done(i, results[i])  # type: ignore[arg-type]
    return [r for r in results if r is not None]
