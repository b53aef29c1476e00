"""The `harness` command line: run, list, validate, schema, report, compare, export, perturbations,
train, train-eval, train-opinionqa, cache.

Bad input never ends in a traceback: a HarnessError is printed as one line naming file, line
and field, and the exit code is 2.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from harness.core.errors import HarnessError

app = typer.Typer(
    add_completion=False, no_args_is_help=True, rich_markup_mode="markdown",
    help="Evaluate how robust and how aligned a language model really is.\n\n"
         "Examples:\n\n"
         "* `harness run tasks/general_knowledge.yaml` (embedded SmolLM2-135M-Instruct)\n\n"
         "* `harness run tasks/general_knowledge.yaml --model Qwen/Qwen2.5-0.5B-Instruct --limit 50`\n\n"
         "* `harness validate tasks/*.yaml`\n\n"
         "* `harness report runs/ -o reports/index.html`")
out = Console()
err = Console(stderr=True)


def _fail(exc: HarnessError) -> None:
    err.print(f"harness: error: {exc}", markup=False, highlight=False, soft_wrap=True)
    raise typer.Exit(2)


def _quiet_libraries() -> None:
    import datasets
    import transformers

    transformers.utils.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
    datasets.utils.logging.set_verbosity_error()


@app.command()
def run(
    tasks: Annotated[list[Path], typer.Argument(help="Task YAML files.", show_default=False)],
    model: Annotated[str | None, typer.Option("--model", "-m", help="Embedded name, local folder or hub id "
                                                 "(default: the embedded SmolLM2-135M-Instruct), or "
                                                 "replay:COLUMN / replay:COLUMN.* / replay:FILE.jsonl to score "
                                                 "recorded outputs.")] = None,
    limit: Annotated[int | None, typer.Option(min=1, help="Evaluate only the first N items of each task.")] = None,
    output: Annotated[Path, typer.Option("--output", "-o", help="Folder for run directories.")] = Path("runs"),
    seed: Annotated[int, typer.Option(help="Seed for sampling and bootstrap CIs.")] = 1234,
    backend: Annotated[str, typer.Option(help="hf (transformers) | vllm | openai (any OpenAI-compatible server) | "
                                              "fake (answers by rule, for tests); `harness backends` lists them")]
    = "hf",
    backend_arg: Annotated[list[str] | None, typer.Option(
        "--backend-arg", "-B", help="key=value, repeatable: an option of the backend (`harness backends` lists "
                                    "them), e.g. -B base_url=http://127.0.0.1:8000/v1 -B concurrency=16")] = None,
    batch_size: Annotated[int | None, typer.Option(min=1, help="Prompts per forward pass (hf; vllm: per "
                                                             "generate call). Default: the backend's.")] = None,
    dtype: Annotated[str | None, typer.Option(help="bfloat16 | float16 | float32 (hf, vllm; default bfloat16)")]
    = None,
    device: Annotated[str | None, typer.Option(help="auto | cpu | cuda | cuda:N (hf)")] = None,
    report: Annotated[Path, typer.Option(help="HTML report refreshed at the end from every run in --output.")]
    = Path("reports/index.html"),
    no_report: Annotated[bool, typer.Option("--no-report", help="Do not write the HTML report.")] = False,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Neither read nor write the request cache.")] = False,
    cache_path: Annotated[Path | None, typer.Option("--cache", help="Request cache file. Default: "
                                                       "$HARNESS_HOME/cache.sqlite")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Render example prompts per variant and count "
                                                           "requests and prompt tokens; load no model.")] = False,
    examples: Annotated[int, typer.Option(min=0, help="Example prompts per variant with --dry-run.")] = 1,
) -> None:
    """Evaluate a model on one or more tasks; write runs/<id>/results.json, samples.jsonl and the report."""
    from harness.backends.registry import create_backend, parse_backend_args
    from harness.cli.runs import dry_run_tasks, run_tasks
    from harness.config.spec import load_task
    from harness.core.plugins import BACKENDS
    from harness.pipeline.cache import RequestCache
    from harness.pipeline.recorded import is_replay, replay_backends
    from harness.pipeline.runner import RunOptions
    from harness.report.build import write_report
    from harness.report.summary import summary_table

    try:
        loaded = [load_task(t) for t in tasks]  # fail fast, before loading a model
        _quiet_libraries()
        common = {k: v for k, v in {"dtype": dtype, "device": device, "batch_size": batch_size}.items() if v}
        values = parse_backend_args(backend_arg or [])
        if twice := sorted(common.keys() & values.keys()):
            raise HarnessError(f"'{twice[0]}' is given as --{twice[0].replace('_', '-')} and as --backend-arg")
        if dry_run:
            dry_run_tasks(loaded, model, local=BACKENDS.get(backend).local, examples=examples, seed=seed,
                          limit=limit)
            return
        options = RunOptions(seed=seed, batch_size=batch_size or 16, limit=limit)
        if is_replay(model):  # recorded outputs: one engine per task and recorded model, nothing to cache
            runs = [(task, engine) for task in loaded
                    for engine in replay_backends(task, model or "", seed=seed, limit=limit)]
            cache = None
        else:
            engine = create_backend(backend, model, {**common, **values})
            runs = [(task, engine) for task in loaded]
            cache = None if no_cache else RequestCache(cache_path or _default_cache())
        try:
            results = run_tasks(runs, options, output, cache)
        finally:  # engines and worker processes stop now, however the run ended
            for engine in {id(e): e for _, e in runs}.values():
                engine.close()
        out.print(summary_table(results))
        for run_dir, _ in results:
            out.print(f"run: {run_dir}", markup=False, highlight=False)
        if not no_report:
            path, count = write_report([output], report)
            out.print(f"report: {path} ({count} runs)")
    except HarnessError as exc:
        _fail(exc)


@app.command("list")
def list_tasks(folder: Annotated[Path, typer.Argument(help="Folder of task files.")] = Path("tasks")) -> None:
    """List the task files in a folder (default: tasks/)."""
    from harness.config.spec import load_task

    files = sorted(folder.glob("*.yaml")) + sorted(folder.glob("*.yml"))
    if not files:
        _fail(HarnessError("no task files (*.yaml) here", file=folder))
    table = Table()
    for col in ("task", "type", "file", "description"):
        table.add_column(col)
    for f in files:
        try:
            t = load_task(f)
            table.add_row(t.spec.name, t.spec.type, str(f), t.spec.description.strip().split("\n")[0])
        except HarnessError as exc:
            table.add_row("[red]invalid[/]", "", str(f), str(exc))
    out.print(table)


@app.command()
def validate(
    files: Annotated[list[Path], typer.Argument(help="Task YAML files.", show_default=False)],
    data: Annotated[bool, typer.Option(help="Also load the dataset and render every prompt.")] = True,
) -> None:
    """Check task files: schema, templates and (by default) every dataset row and prompt."""
    from harness.config.spec import load_task
    from harness.data.items import TaskData
    from harness.pipeline.plan import plan
    from harness.variants.arms import second_turn
    from harness.variants.variant import make_variants

    failed = 0
    for f in files:
        try:
            task = load_task(f)
            detail = ""
            if data:
                dataset = TaskData(task)
                for items in dataset.chunks():  # one chunk unless the dataset is streamed
                    variants = make_variants(task, items)
                    plan(task, variants, seed=0)
                    for v in variants:  # dialogue follow-ups are written after the first answer: render them too
                        if v.turns == 2:
                            second_turn(task, v, None)
                detail = f", {dataset.count} items"
            out.print(f"ok  {f} ({task.spec.name}{detail})", markup=False, highlight=False)
        except HarnessError as exc:
            failed += 1
            err.print(f"harness: error: {exc}", markup=False, highlight=False, soft_wrap=True)
    if failed:
        raise typer.Exit(2)


cache_app = typer.Typer(help="Inspect or clear the request cache.", no_args_is_help=True)
app.add_typer(cache_app, name="cache")


def _default_cache() -> Path:
    from harness.backends.models import cache_home

    return cache_home() / "cache.sqlite"


@cache_app.command("info")
def cache_info(path: Annotated[Path | None, typer.Option("--cache", help="Cache file.")] = None) -> None:
    """How many responses the cache holds, per model."""
    from harness.pipeline.cache import RequestCache

    target = path or _default_cache()
    try:
        stats = RequestCache(target).info()
    except HarnessError as exc:
        _fail(exc)
    out.print(f"{target}", markup=False)
    for k, v in stats.items():
        out.print(f"  {k}: {v}", markup=False, highlight=False)


@cache_app.command("clear")
def cache_clear(path: Annotated[Path | None, typer.Option("--cache", help="Cache file.")] = None) -> None:
    """Delete every cached response."""
    from harness.pipeline.cache import RequestCache

    try:
        n = RequestCache(path or _default_cache()).clear()
    except HarnessError as exc:
        _fail(exc)
    out.print(f"cleared {n} cached responses")


@app.command()
def perturbations() -> None:
    """List the perturbations a task's `perturbations:` steps can name, with their parameters."""
    from harness.variants.perturbations import REGISTRY

    table = Table()
    for col in ("kind", "scope", "parameters", "what it does"):
        table.add_column(col)
    for name, p in sorted(REGISTRY.items()):
        params = ", ".join(f"{k}={f.default!r}" if not f.is_required() else k
                           for k, f in p.params.model_fields.items()
                           if k != "kind" and (k != "on" or p.params.targets_text))
        table.add_row(name, p.scope, params, p.description)
    out.print(table)


@app.command()
def schema() -> None:
    """Print the JSON schema of task files (for editor completion)."""
    from harness.config.spec import TaskSpec

    sys.stdout.write(json.dumps(TaskSpec.model_json_schema(), indent=2) + "\n")


@app.command()
def report(
    runs: Annotated[list[Path], typer.Argument(help="Run directories, or folders of them.")] = [Path("runs")],  # noqa: B006
    output: Annotated[Path, typer.Option("--output", "-o", help="HTML file (or folder for index.html).")]
    = Path("reports/index.html"),
) -> None:
    """Build the self-contained HTML leaderboard from results files."""
    from harness.report.build import write_report

    try:
        path, count = write_report(runs, output)
    except HarnessError as exc:
        _fail(exc)
    out.print(f"report: {path} ({count} runs)")


@app.command()
def compare(
    run_a: Annotated[Path, typer.Argument(help="Run directory of model A.", show_default=False)],
    run_b: Annotated[Path, typer.Argument(help="Run directory of model B (same task and items).", show_default=False)],
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Also write the comparison as JSON.")] = None,
) -> None:
    """Two runs of one task, sample by sample: accuracy difference B − A, its CI and p-value."""
    from harness.metrics.paired import compare_runs
    from harness.report.build import model_label
    from harness.results.io import atomic_write_text, read_result, read_samples

    try:
        runs = []
        for d in (run_a, run_b):
            if not (d / "results.json").is_file() or not (d / "samples.jsonl").is_file():
                raise HarnessError("not a run directory (needs results.json and samples.jsonl)", file=d)
            runs.append((read_result(d), read_samples(d)))
        (ra, sa), (rb, sb) = runs
        if ra.task.name != rb.task.name:
            raise HarnessError(f"the runs are of different tasks ({ra.task.name}, {rb.task.name})", file=run_b)
        try:
            comparison, differing = compare_runs(sa, sb, name_a=model_label(ra), name_b=model_label(rb),
                                                 seed=ra.settings.seed, resamples=ra.settings.bootstrap_resamples,
                                                 level=ra.settings.ci_level)
        except ValueError as exc:
            raise HarnessError(str(exc), file=run_b) from None
    except HarnessError as exc:
        _fail(exc)
    c = comparison
    out.print(f"{ra.task.name}: A = {c.name_a} {100 * c.value_a:.1f}, B = {c.name_b} {100 * c.value_b:.1f}\n"
              f"B − A = {100 * c.diff:+.1f} [{100 * c.ci_low:.1f}, {100 * c.ci_high:.1f}] ({c.ci_method}); "
              f"p = {c.p_value:.3g} ({c.method}); {c.n} samples, {len(differing)} where exactly one is right",
              markup=False, highlight=False, soft_wrap=True)
    if output:
        atomic_write_text(output, json.dumps({"comparison": c.model_dump(), "differing": differing}, indent=2) + "\n")
        out.print(f"written: {output}", markup=False, highlight=False)


@app.command()
def export(
    runs: Annotated[list[Path], typer.Argument(help="Run directories, or folders of them.")] = [Path("runs")],  # noqa: B006
    format: Annotated[str, typer.Option("--format", "-f", help="csv | jsonl | parquet")] = "csv",
    output: Annotated[Path, typer.Option("--output", "-o", help="Folder for metrics.<fmt> and samples.<fmt>.")]
    = Path("exports"),
) -> None:
    """Export metrics and samples of runs as two tables (CSV, JSON lines or Parquet) for pandas."""
    from harness.results.export import export_runs

    try:
        if format not in ("csv", "jsonl", "parquet"):
            raise HarnessError(f"unknown format '{format}' (choose csv, jsonl or parquet)", field="--format")
        metrics_path, samples_path = export_runs(runs, format, output)  # type: ignore[arg-type]
    except HarnessError as exc:
        _fail(exc)
    out.print(f"metrics: {metrics_path}\nsamples: {samples_path}", markup=False, highlight=False)


from harness.cli.runs import backends_command  # noqa: E402  (light imports)
from harness.cli.train import opinionqa_command, train_command, train_eval_command  # noqa: E402  (light imports)

app.command("backends")(backends_command)

app.command("train")(train_command)
app.command("train-eval")(train_eval_command)
app.command("train-opinionqa")(opinionqa_command)


def main() -> None:
    import sqlite3

    try:
        app()
    except KeyboardInterrupt:
        err.print("harness: interrupted")
        sys.exit(130)
    except OSError as exc:  # a full disk, a file-size limit, a folder we may not write: one line, exit 2
        where = f"{exc.filename}: " if exc.filename else ""
        err.print(f"harness: error: {where}{exc.strerror or exc} (nothing was presented as complete: a run "
                  "without results.json is unfinished, and re-running resumes from the cache)",
                  markup=False, highlight=False, soft_wrap=True)
        sys.exit(2)
    except sqlite3.Error as exc:
        err.print(f"harness: error: the request cache failed: {exc}", markup=False, highlight=False, soft_wrap=True)
        sys.exit(2)


if __name__ == "__main__":
    main()
