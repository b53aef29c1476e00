"""The `harness` command line: run, list, validate, schema, report, compare, export, perturbations,
train, train-eval, train-opinionqa, cache.

Bad input never ends in a traceback: a HarnessError is printed as one line naming file, line
and field, and the exit code is 2.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from harness.cli.console import err, fail, out, quiet_libraries, skipped, slug
from harness.cli.options import ALLOW_HELP, INT64_MAX, allow_paths, check_device, run_app
from harness.core.errors import HarnessError

app = typer.Typer(
    add_completion=False, no_args_is_help=True, rich_markup_mode="markdown",
    help="Evaluate how robust and how aligned a language model really is.\n\n"
         "Examples:\n\n"
         "* `harness run tasks/general_knowledge.yaml` (embedded SmolLM2-135M-Instruct)\n\n"
         "* `harness run tasks/general_knowledge.yaml --model Qwen/Qwen2.5-0.5B-Instruct --limit 50`\n\n"
         "* `harness validate tasks/*.yaml`\n\n"
         "* `harness report runs/ -o reports/index.html`")
@app.command()
def run(
    ctx: typer.Context,
    tasks: Annotated[list[Path], typer.Argument(help="Task YAML files.", show_default=False)],
    model: Annotated[str | None, typer.Option("--model", "-m", help="Embedded name, local folder or hub id "
                                                 "(default: the embedded SmolLM2-135M-Instruct), or "
                                                 "replay:COLUMN / replay:COLUMN.* / replay:FILE.jsonl to score "
                                                 "recorded outputs.")] = None,
    limit: Annotated[int | None, typer.Option(min=1, max=INT64_MAX, help="Evaluate only the first N items of each "
                                              "task.")] = None,
    output: Annotated[Path, typer.Option("--output", "-o", help="Folder for run directories.")] = Path("runs"),
    seed: Annotated[int, typer.Option(min=0, max=INT64_MAX, help="Seed for sampling and bootstrap CIs.")] = 1234,
    batch_size: Annotated[int, typer.Option(min=1, help="Prompts per forward pass.")] = 16,
    dtype: Annotated[str, typer.Option(help="auto | bfloat16 | float16 | float32; auto: the dtype a `harness "
                                            "train` model folder was saved in, else bfloat16")] = "auto",
    device: Annotated[str, typer.Option(help="auto | cpu | cuda | cuda:N (hf backend)")] = "auto",
    backend: Annotated[str, typer.Option(help="hf (transformers) | vllm | openai (any OpenAI-compatible server)")]
    = "hf",
    tensor_parallel_size: Annotated[int, typer.Option(min=1, help="GPUs per model (vllm backend).")] = 1,
    data_parallel_size: Annotated[int, typer.Option(min=1, help="Model copies in Ray actors, each on its own "
                                                    "GPUs or CPU cores (vllm backend; pip install ray).")] = 1,
    base_url: Annotated[str | None, typer.Option(help="Server URL for --backend openai, e.g. "
                                                "http://127.0.0.1:8000/v1")] = None,
    api_key_env: Annotated[str, typer.Option(help="Environment variable holding the API key (openai).")]
    = "OPENAI_API_KEY",
    concurrency: Annotated[int, typer.Option(min=1, help="Requests in flight at once (openai).")] = 8,
    report: Annotated[Path, typer.Option(help="HTML report refreshed at the end from every run in --output.")]
    = Path("reports/index.html"),
    no_report: Annotated[bool, typer.Option("--no-report", help="Do not write the HTML report.")] = False,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Neither read nor write the request cache.")] = False,
    cache_path: Annotated[Path | None, typer.Option("--cache", help="Request cache file. Default: "
                                                       "$HARNESS_HOME/cache.sqlite")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Render example prompts per variant and count "
                                                           "requests and prompt tokens; load no model.")] = False,
    examples: Annotated[int, typer.Option(min=0, help="Example prompts per variant with --dry-run.")] = 1,
    min_group_size: Annotated[int | None, typer.Option(min=1, help="Groups with fewer items are flagged small, "
                                                       "never crowned worst (default: the task's stats, else 10).")]
    = None,
    bootstrap_resamples: Annotated[int | None, typer.Option(min=10, help="Resamples of every bootstrap CI "
                                                            "(default: the task's stats, else 1000).")] = None,
    ci_level: Annotated[float | None, typer.Option(min=0.5, max=0.999, help="Confidence level of every interval "
                                                   "(default: the task's stats, else 0.95).")] = None,
    allow_path: Annotated[list[Path] | None, typer.Option("--allow-path", help=ALLOW_HELP)] = None,
) -> None:
    """Evaluate a model on one or more tasks; write runs/<id>/results.json, samples.jsonl and the report."""
    from harness.backends.registry import BackendOptions, create_backend
    from harness.config.task import load_task
    from harness.pipeline.cache import RequestCache
    from harness.pipeline.recorded import is_replay, replay_backends
    from harness.pipeline.runner import RunOptions, run_task
    from harness.report.build import write_report
    from harness.report.summary import estimate_line, summary_table
    from harness.results.io import new_run_dir

    allow_paths(ctx, allow_path)
    try:
        loaded = [load_task(t) for t in tasks]  # fail fast, before loading a model
        quiet_libraries()
        if dry_run:
            _dry_run(loaded, model, local=backend != "openai", examples=examples, seed=seed, limit=limit)
            return
        options = RunOptions(seed=seed, batch_size=batch_size, limit=limit, min_group_size=min_group_size,
                             bootstrap_resamples=bootstrap_resamples, ci_level=ci_level)
        if dtype == "auto":
            from harness.train.build import trained_dtype

            dtype = trained_dtype(model) or "bfloat16"
        if is_replay(model):  # recorded outputs: one engine per task and recorded model, nothing to cache
            runs = [(task, engine) for task in loaded
                    for engine in replay_backends(task, model or "", limit=limit)]
            cache = None
        else:
            check_device(device, backend)
            engine = create_backend(backend, model, BackendOptions(
                dtype=dtype, device=device, batch_size=batch_size, tensor_parallel_size=tensor_parallel_size,
                data_parallel_size=data_parallel_size, base_url=base_url, api_key_env=api_key_env,
                concurrency=concurrency))
            runs = [(task, engine) for task in loaded]
            cache = None if no_cache else RequestCache(cache_path or cache_commands.default_cache())
        results = []
        for task, engine in runs:
            stamp = time.strftime("%Y%m%d-%H%M%S")
            run_dir = new_run_dir(output, f"{stamp}-{slug(task.spec.name)}-{slug(engine.info.name)}")
            with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                          TimeElapsedColumn(), console=out) as bar:
                def on_start(total: int, name: str = task.spec.name):  # type: ignore[no-untyped-def]
                    tid = bar.add_task(name, total=total)
                    return lambda k: bar.advance(tid, k)

                def on_plan(e, name: str = task.spec.name) -> None:  # type: ignore[no-untyped-def]
                    bar.console.print(estimate_line(name, e), markup=False, highlight=False)

                result = run_task(task, engine, options, run_dir, cache=cache, on_start=on_start, on_plan=on_plan)
            if result.counts.requests_cached:
                out.print(f"{task.spec.name}: {result.counts.requests_cached} of {result.counts.requests_unique} "
                          "requests answered from the cache")
            if result.counts.ties:
                out.print(f"{task.spec.name}: {result.counts.ties} samples with an exact tie at the top of the option "
                          "log-probs, scored as no answer (invalid; per sample: tied)", markup=False, highlight=False)
            for arm, count in result.counts.skipped.items():
                out.print(f"{task.spec.name}: {arm} skipped on {count} items (it could not apply: no wrong option "
                          "left to assert; counts.skipped)", markup=False, highlight=False)
            if result.counts.truncated:
                out.print(f"{task.spec.name}: {result.counts.truncated} prompts lost their first tokens to fit the "
                          "context (prompt.truncate: left; per sample: prompt_truncated)")
            results.append((run_dir, result))
        if getattr(engine, "engine", True) is None:
            out.print(f"model {engine.info.name} not loaded: every answer came from the cache")
        elif hasattr(engine, "load_seconds"):
            out.print(f"model {engine.info.name} on {engine.info.backend}/{engine.info.device} ({dtype}), "
                      f"loaded in {engine.load_seconds:.1f} s", markup=False, highlight=False)
        out.print(summary_table(results))
        for run_dir, _ in results:
            out.print(f"run: {run_dir}", markup=False, highlight=False)
        if not no_report:
            path, count = write_report([output], report, on_invalid=skipped)
            out.print(f"report: {path} ({count} runs)")
    except HarnessError as exc:
        fail(exc)


def _dry_run(tasks, model: str | None, *, local: bool, examples: int, seed: int,  # type: ignore[no-untyped-def]
             limit: int | None) -> None:
    from harness.pipeline.dryrun import dry_run, load_tokenizer

    tokenizer = load_tokenizer(model) if local else None  # a server's tokenizer is not here
    for task in tasks:
        d = dry_run(task, tokenizer, examples=examples, seed=seed, limit=limit)
        for v in d.variants:
            for k, text in enumerate(v.examples, 1):
                out.rule(f"{d.task} · {v.name} · example {k} of {v.samples} samples", style="dim")
                out.print(text, markup=False, highlight=False)
        tokens = f"{d.prompt_tokens:,} prompt tokens" if d.prompt_tokens is not None else "tokens: no local tokenizer"
        more = f" (+ {d.second_turns} second turns written after the first answer)" if d.second_turns else ""
        out.print(f"{d.task}: {d.items} items, {len(d.variants)} variants, {d.samples} samples, "
                  f"{d.requests_unique} distinct requests{more}, {tokens}, {d.prompt_chars:,} characters; "
                  "no model loaded", markup=False, highlight=False)


from harness.cli import cache as cache_commands  # noqa: E402  (light imports)
from harness.cli import inspect as inspect_commands  # noqa: E402
from harness.cli import results as results_commands  # noqa: E402
from harness.cli.train import opinionqa_command, train_command, train_eval_command  # noqa: E402

app.command("list")(inspect_commands.list_command)
app.command("validate")(inspect_commands.validate)
app.command("schema")(inspect_commands.schema)
app.command("perturbations", hidden=True)(inspect_commands.perturbations)
app.add_typer(cache_commands.cache_app, name="cache")
app.command("report")(results_commands.report)
app.command("compare")(results_commands.compare)
app.command("export")(results_commands.export)
app.command("train")(train_command)
app.command("train-eval")(train_eval_command)
app.command("train-opinionqa")(opinionqa_command)


def main() -> None:
    sys.exit(run_app(app, err.print))


if __name__ == "__main__":
    main()
