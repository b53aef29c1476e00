"""What `harness run` does once its arguments are checked: each task on its backend with a progress bar, or a
dry run; and `harness backends`, the list of backends and their options. harness/cli/main.py registers them."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from harness.cli.console import out, print_exact, print_table, slug
from harness.core.errors import HarnessError


def engines(tasks, model: str | None, backend: str, backend_args: list[str], common: dict[str, Any],  # type: ignore[no-untyped-def]
            cache_path: Path | None | bool, *, limit: int | None):
    """The (task, backend) pairs to run and the request cache: one backend for every task, or for a replay one
    per task and recorded model (nothing to cache). `cache_path` False: no cache; None: the default file."""
    from harness.backends.registry import create_backend, parse_backend_args
    from harness.cli.cache import default_cache
    from harness.pipeline.cache import RequestCache
    from harness.pipeline.recorded import is_replay, replay_backends

    if is_replay(model):
        return [(task, engine) for task in tasks for engine in replay_backends(task, model or "", limit=limit)], None
    from harness.core.plugins import BACKENDS

    common = {k: v for k, v in common.items() if v}
    if common.get("dtype", "auto") == "auto" and "dtype" in BACKENDS.get(backend).Options.model_fields:
        from harness.train.build import trained_dtype

        # a trained folder loads in the dtype it trained in; else the backend resolves auto (GPU bf16, CPU float32)
        common["dtype"] = trained_dtype(model) or "auto"
    values = parse_backend_args(backend_args)
    if twice := sorted(common.keys() & values.keys()):
        raise HarnessError(f"'{twice[0]}' is given as --{twice[0].replace('_', '-')} and as --backend-arg")
    engine = create_backend(backend, model, {**common, **values})
    cache = None if cache_path is False else RequestCache(cache_path or default_cache())
    return [(task, engine) for task in tasks], cache


def run_models(loaded, models: list[str | None], backend: str, backend_args: list[str],  # type: ignore[no-untyped-def]
               common: dict[str, Any], cache_path: Path | None | bool, options, output: Path, console=out,
               judge: tuple = (None, None, [])):
    """Every (task, group) of `loaded` on every model, one model loaded at a time; returns
    [(run directory, RunResult, group or None)] in model, task order. `judge`: (backend, model, args) given
    for judged tasks."""
    group_of = {id(task): group for task, group in loaded}
    tasks = [task for task, _ in loaded]
    results = []
    for model in models:
        runs, cache = engines(tasks, model, backend, backend_args, common, cache_path, limit=_rows(options))
        graders = judges(runs, model, backend, backend_args, judge)
        try:
            done = run_tasks(runs, options, output, cache, graders, console)
        finally:  # engines and worker processes stop now, however the run ended
            for engine in {id(e): e for e in [e for _, e in runs] + [j.backend for j in graders.values()]}.values():
                engine.close()
        results += [(d, r, group_of[id(task)]) for (d, r), (task, _) in zip(done, runs)]
    return results


def _rows(options) -> int | None:  # type: ignore[no-untyped-def]
    """A replay reads at most this many recorded rows (all of them for a fraction or a drawn sample)."""
    return options.limit if isinstance(options.limit, int) and options.sample == "first" else None


def judges(runs, model: str | None, backend: str, backend_args: list[str], given: tuple) -> dict:  # type: ignore[no-untyped-def]
    """The judge of each task with a `judge:` block, by the task's index in `runs`: one backend per distinct
    judge spec, and the subject's own engine when the judge is the subject model with no options of its own."""
    from harness.backends.models import DEFAULT_MODEL
    from harness.backends.registry import create_backend
    from harness.pipeline.judging import Judge, JudgeOptions, judge_setting

    options = JudgeOptions(backend=given[0], model=given[1], args=given[2])
    made: dict[str, Any] = {}
    out = {}
    for i, (task, engine) in enumerate(runs):
        if task.spec.judge is None:
            continue
        name, judge_model, args, by_cli = judge_setting(task.spec.judge, options)
        same = name == backend and (judge_model or DEFAULT_MODEL) == (model or DEFAULT_MODEL) and not args \
            and not backend_args
        key = repr((name, judge_model, sorted(args.items())))
        if key not in made:
            made[key] = engine if same else create_backend(name, judge_model, args)
        out[i] = Judge(made[key], "command line" if by_cli else "task file")
    return out


def run_tasks(runs, options, output: Path, cache, graders=None, console=out):  # type: ignore[no-untyped-def]
    """Each (task, backend) pair run with a progress bar (`graders`: the judges by index in `runs`);
    returns [(run directory, RunResult)]."""
    from harness.pipeline.runner import run_task
    from harness.report.summary import estimate_line
    from harness.results.io import new_run_dir

    results = []
    for i, (task, engine) in enumerate(runs):
        stamp = time.strftime("%Y%m%d-%H%M%S")
        run_dir = new_run_dir(output, f"{stamp}-{slug(task.spec.name)}-{slug(engine.info.name)}")
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                      TimeElapsedColumn(), console=console) as bar:
            def on_start(total: int, name: str = task.spec.name):  # type: ignore[no-untyped-def]
                tid = bar.add_task(name, total=total)
                return lambda k: bar.advance(tid, k)

            def on_plan(e, name: str = task.spec.name) -> None:  # type: ignore[no-untyped-def]
                bar.console.print(estimate_line(name, e), markup=False, highlight=False)

            result = run_task(task, engine, options, run_dir, cache=cache, on_start=on_start, on_plan=on_plan,
                              judge=(graders or {}).get(i))
        if result.judge is not None:
            j = result.judge
            console.print(f"{task.spec.name}: judged by {j.model.name} ({j.model.backend}; from the {j.given_by}), "
                      f"{j.requests_unique} judge requests, {j.requests_cached} from the cache", markup=False,
                      highlight=False)
        if result.counts.requests_cached:
            console.print(f"{task.spec.name}: {result.counts.requests_cached} of {result.counts.requests_unique} "
                      "requests answered from the cache")
        if result.counts.ties:
            console.print(f"{task.spec.name}: {result.counts.ties} samples with an exact tie at the top of the option "
                      "log-probs, scored as no answer (invalid; per sample: tied)")
        for arm, count in result.counts.skipped.items():
            console.print(f"{task.spec.name}: {arm} skipped on {count} items (it could not apply: no wrong option "
                      "left to assert; counts.skipped)")
        if result.counts.truncated:
            console.print(f"{task.spec.name}: {result.counts.truncated} prompts lost their first tokens to fit the "
                      "context (prompt.truncate: left; per sample: prompt_truncated)")
        if result.counts.logprobs_floored:
            console.print(f"{task.spec.name}: {result.counts.logprobs_floored} option log-probs are PARROT's floor "
                          "(labels "
                      "outside the backend's top k; per sample: label_logprob_kind); confidence metrics leave out "
                      "the items whose gold or asserted option is floored", markup=False, highlight=False)
        results.append((run_dir, result))
    if not engine.loaded:
        console.print(f"model {engine.info.name} not loaded: every answer came from the cache")
    elif engine.load_seconds:
        console.print(f"model {engine.info.name} on {engine.info.backend}/{engine.info.device} ({engine.info.dtype}), "
                  f"loaded in {engine.load_seconds:.1f} s", markup=False, highlight=False)
    return results


def dry_run_tasks(tasks, model: str | None, *, local: bool, examples: int,  # type: ignore[no-untyped-def]
                  **run: Any) -> None:
    """Example prompts of each task and what it would ask; `run`: seed, limit, sample, gen_kwargs,
    system_instruction, as a run would use them."""
    from harness.pipeline.dryrun import dry_run, load_tokenizer

    tokenizer = load_tokenizer(model) if local else None  # a server's tokenizer is not here
    for task in tasks:
        d = dry_run(task, tokenizer, examples=examples, **run)
        for v in d.variants:
            for k, text in enumerate(v.examples, 1):
                out.rule(f"{d.task} · {v.name} · example {k} of {v.samples} samples", style="dim")
                print_exact(text)
        tokens = f"{d.prompt_tokens:,} prompt tokens" if d.prompt_tokens is not None else "tokens: no local tokenizer"
        more = f" (+ {d.second_turns} second turns written after the first answer)" if d.second_turns else ""
        out.print(f"{d.task}: {d.items} items, {len(d.variants)} variants, {d.samples} samples, "
                  f"{d.requests_unique} distinct requests{more}, {tokens}, {d.prompt_chars:,} characters; "
                  "no model loaded", markup=False, highlight=False)


def backends_command() -> None:
    """List the backends `--backend` can name, with the options `--backend-arg key=value` sets."""
    from harness.backends.registry import option_lines
    from harness.core.plugins import BACKENDS

    table = Table()
    for col in ("backend", "what it is", "options (-B key=value)"):
        table.add_column(col)
    for entry in BACKENDS.entries():
        table.add_row(entry.name, entry.help, "\n".join(option_lines(entry.value)))
    print_table(table)
