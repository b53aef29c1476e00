"""The `harness` command line: run, list, validate, schema, report, compare, export, backends,
train, train-eval, train-opinionqa, cache.

Bad input never ends in a traceback: a HarnessError is printed as one line naming file, line
and field, and the exit code is 2.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from harness.cli.console import err, fail, out, quiet_libraries
from harness.cli.options import ALLOW_HELP, INT64_MAX, allow_paths, check_device, run_app
from harness.core.errors import HarnessError

app = typer.Typer(
    add_completion=False, no_args_is_help=True, rich_markup_mode="markdown",
    help="Evaluate how robust and how aligned a language model really is.\n\n"
         "Examples:\n\n"
         "* `harness run general_knowledge` (a built-in task by name, on the embedded SmolLM2-135M-Instruct)\n\n"
         "* `harness run tasks/general_knowledge.yaml --model Qwen/Qwen2.5-0.5B-Instruct --limit 50`\n\n"
         "* `harness validate tasks/*.yaml`\n\n"
         "* `harness report runs/ -o reports/index.html`")


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            out.print(f"harness {version('harness')}")
        except PackageNotFoundError:  # a source tree that was never installed
            from harness import __version__

            out.print(f"harness {__version__} (not installed)")
        raise typer.Exit()


@app.callback()
def _root(version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                                help="Print the installed version and exit.")] = False) -> None:
    pass


@app.command()
def run(
    ctx: typer.Context,
    tasks: Annotated[list[str], typer.Argument(help="Task files, built-in task names (`harness list` shows them) "
                                                    "or task groups (a file or a name).", show_default=False)],
    model: Annotated[list[str] | None, typer.Option("--model", "-m", help="Embedded name, local folder or hub id "
                                                 "(default: the embedded SmolLM2-135M-Instruct), or "
                                                 "replay:COLUMN / replay:COLUMN.* / replay:FILE.jsonl to score "
                                                 "recorded outputs. Repeatable: one run per model and task.")] = None,
    limit: Annotated[str | None, typer.Option(help="Evaluate only N rows of each task, or a share of them "
                                              "(0.1: a tenth, rounded up); see --sample.")] = None,
    sample: Annotated[str, typer.Option(help="Which --limit rows: first | random (seeded) | stratified (seeded, "
                                             "in proportion per value of the task's first group column).")]
    = "first",
    output: Annotated[Path, typer.Option("--output", "-o", help="Folder for run directories.")] = Path("runs"),
    seed: Annotated[int | None, typer.Option(min=0, max=INT64_MAX, help="Seed of every draw: sampling, --sample, "
                                             "bootstrap CIs, and the perturbation and persuasion draws unless the "
                                             "task file pins their seed (results.json settings.seeds says which "
                                             "won). Default: 1234.")] = None,
    backend: Annotated[str, typer.Option(help="hf (transformers) | vllm | openai (any OpenAI-compatible server) | "
                                              "fake (answers by rule, for tests); `harness backends` lists them")]
    = "hf",
    backend_arg: Annotated[list[str] | None, typer.Option(
        "--backend-arg", "-B", help="key=value, repeatable: an option of the backend (`harness backends` lists "
                                    "them), e.g. -B base_url=http://127.0.0.1:8000/v1 -B concurrency=16")] = None,
    batch_size: Annotated[int | None, typer.Option(min=1, help="Prompts per batch at most (hf: default 64, "
                                                             "and at most -B batch_tokens=16384 prompt positions a "
                                                             "batch; vllm: per generate call). Default: the "
                                                             "backend's.")] = None,
    dtype: Annotated[str | None, typer.Option(help="auto | bfloat16 | float16 | float32 (hf, vllm); auto, the "
                                                   "default: the dtype a `harness train` folder was saved in, "
                                                   "else bfloat16 on a GPU and float32 on a CPU")] = None,
    device: Annotated[str | None, typer.Option(help="auto | cpu | cuda | cuda:N (hf)")] = None,
    report: Annotated[Path | None, typer.Option(help="HTML report refreshed at the end from every run in --output. "
                                                "Default: reports/index.html for `-o runs`, else "
                                                "`OUTPUT/index.html`.", show_default=False)] = None,
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
    gen_kwargs: Annotated[str | None, typer.Option("--gen-kwargs", help="key=value,... set in every task's "
                                                   "`generation:` (max_tokens, temperature, top_p, stop), e.g. "
                                                   "temperature=0.7,max_tokens=64.")] = None,
    system_instruction: Annotated[str | None, typer.Option("--system-instruction", help="A system message sent "
                                                           "first, before the task's own system prompt.")] = None,
    allow_path: Annotated[list[Path] | None, typer.Option("--allow-path", help=ALLOW_HELP)] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Print what vLLM, transformers, the hub and "
                                          "Python warnings say as it comes (default: into the run's log.txt).")]
    = False,
    judge_model: Annotated[str | None, typer.Option(help="The judge model of judged tasks (as --model); wins "
                                                         "over the task's `judge:` block.")] = None,
    judge_backend: Annotated[str | None, typer.Option(help="The judge's backend (as --backend).")] = None,
    judge_arg: Annotated[list[str] | None, typer.Option(help="key=value, repeatable: an option of the judge's "
                                                             "backend (as -B).")] = None,
) -> None:
    """Evaluate models on tasks; write `runs/<id>/results.json`, `samples.jsonl` and the report."""
    import tempfile

    from harness.api import evaluate, expand
    from harness.cli.groups import print_evaluation
    from harness.cli.logs import LibraryLog
    from harness.cli.runs import dry_run_tasks
    from harness.config.overrides import parse_gen_kwargs
    from harness.config.sampling import make_sampling, parse_limit
    from harness.core.plugins import BACKENDS

    allow_paths(ctx, allow_path)
    library_log = ctx.with_resource(LibraryLog(Path(tempfile.gettempdir()) if dry_run else output, verbose=verbose))
    models: list[str | None] = list(model) if model else [None]
    try:
        rows = parse_limit(limit) if limit is not None else None
        make_sampling(rows, sample, 0)
        generation = parse_gen_kwargs(gen_kwargs)
        if dry_run:
            loaded = [task for task, _ in expand(tasks)]
            quiet_libraries(verbose)
            for m in models:
                dry_run_tasks(loaded, m, local=BACKENDS.get(backend).local, examples=examples,
                              seed=1234 if seed is None else seed, limit=rows, sample=sample, gen_kwargs=generation,
                              system_instruction=system_instruction)
            return
        if device is not None:
            check_device(device, backend)
        quiet_libraries(verbose)
        ev = evaluate(tasks, model=models, backend=backend, limit=rows, sample=sample, seed=seed, output=output,
                      report=False if no_report else (report or True), backend_args=backend_arg, dtype=dtype,
                      device=device, batch_size=batch_size, cache=False if no_cache else (cache_path or True),
                      console=out, gen_kwargs=generation, system_instruction=system_instruction,
                      judge=(judge_backend, judge_model, judge_arg or []), min_group_size=min_group_size,
                      bootstrap_resamples=bootstrap_resamples, ci_level=ci_level)
        library_log.attach(ev.run_dirs)
        print_evaluation(ev)
    except HarnessError as exc:
        fail(exc)
    except OSError as exc:  # a folder we may not make or write: one line (harness.cli.options.run_app says more)
        fail(HarnessError(f"cannot write ({exc.strerror or exc})", file=exc.filename))


from harness.cli import cache as cache_commands  # noqa: E402  (light imports)
from harness.cli import inspect as inspect_commands  # noqa: E402
from harness.cli import results as results_commands  # noqa: E402
from harness.cli.runs import backends_command  # noqa: E402
from harness.cli.train import opinionqa_command, train_command, train_eval_command  # noqa: E402

app.command("list")(inspect_commands.list_command)
app.command("validate")(inspect_commands.validate)
app.command("schema")(inspect_commands.schema)
app.command("perturbations", hidden=True)(inspect_commands.perturbations)
app.command("backends")(backends_command)
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
