"""What `harness run` does once its arguments are checked: each task on its backend with a progress bar, or a
dry run; and `harness backends`, the list of backends and their options. harness/cli/main.py registers them."""

from __future__ import annotations

import re
import time
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

out = Console()


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-")[:60]


def run_tasks(runs, options, output: Path, cache):  # type: ignore[no-untyped-def]
    """Each (task, backend) pair run with a progress bar; returns [(run directory, RunResult)]."""
    from harness.pipeline.runner import run_task
    from harness.report.summary import estimate_line

    results = []
    for task, engine in runs:
        stamp = time.strftime("%Y%m%d-%H%M%S")
        run_dir = output / f"{stamp}-{_slug(task.spec.name)}-{_slug(engine.info.name)}"
        n = 1
        while run_dir.exists():
            n += 1
            run_dir = run_dir.with_name(f"{stamp}-{_slug(task.spec.name)}-{_slug(engine.info.name)}-{n}")
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
        if result.counts.truncated:
            out.print(f"{task.spec.name}: {result.counts.truncated} prompts lost their first tokens to fit the "
                      "context (prompt.truncate: left; per sample: prompt_truncated)")
        if result.counts.logprobs_floored:
            out.print(f"{task.spec.name}: {result.counts.logprobs_floored} option log-probs are PARROT's floor (labels "
                      "outside the backend's top k; per sample: label_logprob_kind); confidence metrics leave out "
                      "the items whose gold or asserted option is floored", markup=False, highlight=False)
        results.append((run_dir, result))
    if not engine.loaded:
        out.print(f"model {engine.info.name} not loaded: every answer came from the cache")
    elif engine.load_seconds:
        out.print(f"model {engine.info.name} on {engine.info.backend}/{engine.info.device} ({engine.info.dtype}), "
                  f"loaded in {engine.load_seconds:.1f} s", markup=False, highlight=False)
    return results


def dry_run_tasks(tasks, model: str | None, *, local: bool, examples: int, seed: int,  # type: ignore[no-untyped-def]
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


def backends_command() -> None:
    """List the backends `--backend` can name, with the options `--backend-arg key=value` sets."""
    from harness.backends.registry import option_lines
    from harness.core.plugins import BACKENDS

    table = Table()
    for col in ("backend", "what it is", "options (-B key=value)"):
        table.add_column(col)
    for entry in BACKENDS.entries():
        table.add_row(entry.name, entry.help, "\n".join(option_lines(entry.value)))
    out.print(table)
