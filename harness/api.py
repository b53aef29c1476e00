"""The Python API: `harness.evaluate(...)` (also `harness.api.evaluate`), what `harness run` does, returning the
typed results.

    import harness
    ev = harness.evaluate(["general_knowledge"], model="smollm2-135m-instruct", limit=20, seed=1)
    ev.runs[0].metrics[0].value   # a harness.results.schema.RunResult per model x task

Bad input raises harness.core.errors.HarnessError (file, line and field in its message).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict
from rich.console import Console

from harness.config.spec import GenerationSpec
from harness.config.task import Task
from harness.metrics.aggregate import Aggregate
from harness.results.schema import RunResult

DEFAULT_OUTPUT = Path("runs")
DEFAULT_REPORT = Path("reports/index.html")


class Evaluation(BaseModel):
    """What `evaluate` ran: one RunResult (and run folder) per model x task, one Aggregate per model x group."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    runs: list[RunResult]
    run_dirs: list[Path]
    groups: list[Aggregate] = []
    group_files: list[Path] = []
    report: Path | None = None
    report_runs: int = 0  # runs the report shows (every run in `output`)


def default_report(output: Path) -> Path:
    """Where the report of `output`'s runs goes: reports/index.html for the default `runs` folder, else
    OUTPUT/index.html, beside the runs it shows (so `-o OTHER` never overwrites another folder's report)."""
    return DEFAULT_REPORT if Path(output) == DEFAULT_OUTPUT else Path(output) / "index.html"


def expand(tasks: Sequence[str | Path]) -> list[tuple[Task, str | None]]:
    """Each argument (a task file, a task name, a group file or group name) as loaded tasks, with their group."""
    from harness.config.group import is_group_file, load_group
    from harness.config.locate import find_task
    from harness.config.task import load_task

    loaded: list[tuple[Task, str | None]] = []
    for arg in tasks:
        file = find_task(arg)
        if is_group_file(file):
            spec, files = load_group(file)
            loaded += [(load_task(f), spec.group) for f in files]
        else:
            loaded.append((load_task(file), None))
    return loaded


def evaluate(tasks: str | Path | Sequence[str | Path], *, model: str | Sequence[str | None] | None = None,
             backend: str = "hf", limit: int | float | None = None, sample: str = "first", seed: int | None = None,
             output: str | Path = DEFAULT_OUTPUT, report: str | Path | bool = True,
             backend_args: dict[str, Any] | Sequence[str] | None = None, dtype: str | None = None,
             device: str | None = None,
             batch_size: int | None = None, cache: str | Path | bool = True,
             gen_kwargs: dict[str, Any] | str | None = None, system_instruction: str | None = None,
             judge: tuple[str | None, str | None, list[str]] = (None, None, []),
             console: Console | None = None, **stats: Any) -> Evaluation:
    """Run every task (names, files or groups) on every model and return the results.

    limit: rows per task (int) or a share of them (float in (0, 1)); sample: first | random | stratified;
    backend_args: the backend's options (`harness backends`), as a dict or as "key=value" strings;
    seed: every draw the task files do not pin (default 1234); report: True writes the HTML report of every
    run in `output` to `default_report(output)`, a path writes it there, False writes none; cache: True the
    default request cache, a path that file, False none; gen_kwargs: generation keys for every task (max_tokens,
    temperature, top_p, stop; a dict or "k=v,..."); system_instruction: a first system message; judge: (backend,
    model, ["key=value", ...]) of the judge of judged tasks (None: the task's `judge:` block); stats:
    min_group_size, bootstrap_resamples, ci_level.
    Progress goes to `console` (default: none)."""
    from harness.cli.console import quiet_libraries
    from harness.cli.runs import run_models
    from harness.config.overrides import check_generation, parse_gen_kwargs
    from harness.config.sampling import make_sampling
    from harness.pipeline.runner import RunOptions

    make_sampling(limit, sample, 0)  # a bad --limit or --sample fails before anything loads
    generation = parse_gen_kwargs(gen_kwargs) if isinstance(gen_kwargs, str) else dict(gen_kwargs or {})
    check_generation(GenerationSpec(), generation)
    names = [tasks] if isinstance(tasks, (str, Path)) else list(tasks)
    loaded = expand(names)
    models = [model] if model is None or isinstance(model, str) else list(model)
    options = RunOptions(seed=1234 if seed is None else seed, seed_source="default" if seed is None else "cli",
                         batch_size=batch_size or 16, limit=limit, sample=sample,  # type: ignore[arg-type]
                         gen_kwargs=generation, system_instruction=system_instruction,
                         **{k: v for k, v in stats.items() if v is not None})
    common = {"dtype": dtype, "device": device, "batch_size": batch_size}
    args = [f"{k}={v}" for k, v in backend_args.items()] if isinstance(backend_args, dict) else list(backend_args or [])
    cache_path = False if cache is False else (None if cache is True else Path(cache))
    out = console or Console(quiet=True)
    if console is None:
        quiet_libraries()  # no progress bars of transformers and datasets (the CLI chooses for itself: --verbose)
    output = Path(output)
    results = run_models(loaded, models, backend, args, common, cache_path, options, output, out, judge)
    ev = Evaluation(runs=[r for _, r, _ in results], run_dirs=[d for d, _, _ in results])
    _aggregate(ev, results, output, options)
    if report is not False:
        from harness.report.build import write_report

        path = default_report(output) if report is True else Path(report)
        ev.report, ev.report_runs = write_report([output], path, on_invalid=_warn(console))
    return ev


def _warn(console: Console | None):  # type: ignore[no-untyped-def]
    """A run the report cannot read: a warning line on stderr (the CLI), or a Python warning (the API)."""
    if console is not None:
        from harness.cli.console import skipped

        return skipped
    import warnings

    return lambda exc: warnings.warn(f"{exc}; left out of the report", stacklevel=3)


def _aggregate(ev: Evaluation, results: list[tuple[Path, RunResult, str | None]], output: Path,
               options: Any) -> None:
    """One aggregate per model x group, each written to OUTPUT/groups/<stamp>-<group>-<model>.json."""
    from harness.cli.console import slug
    from harness.metrics.aggregate import aggregate
    from harness.results.io import atomic_write_text

    cells: dict[tuple[str, str, str], list[RunResult]] = {}
    for _, run, group in results:
        if group is not None:
            cells.setdefault((group, run.model.name, run.model.backend), []).append(run)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    for (group, model, backend), runs in cells.items():
        agg = aggregate(group, runs, level=options.ci_level or runs[0].settings.ci_level)
        file = output / "groups" / f"{stamp}-{slug(group)}-{slug(model)}-{slug(backend)}.json"
        file.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(file, agg.model_dump_json(indent=2) + "\n")
        ev.groups.append(agg)
        ev.group_files.append(file)
