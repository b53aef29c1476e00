"""Commands that describe: `harness list`, `validate`, `schema`, `perturbations`."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from harness.cli.console import err, fail, out, print_table
from harness.cli.options import ALLOW_HELP, allow_paths
from harness.core.errors import HarnessError

LISTS = ("tasks", "kinds", "scorers", "metrics", "backends", "perturbations", "arms")


def list_command(
    what: Annotated[str, typer.Argument(help=f"One of: {', '.join(LISTS)}.")] = "tasks",
    folder: Annotated[Path, typer.Argument(help="Folder of task files (for `tasks`).")] = Path("tasks"),
) -> None:
    """List task files (default), or what is registered: kinds, scorers, metrics, backends, perturbations, arms."""
    from harness.core.plugins import ALL

    if what not in LISTS and Path(what).is_dir():  # `harness list FOLDER`: the task files there
        what, folder = "tasks", Path(what)
    if what not in LISTS:
        fail(HarnessError(f"unknown list '{what}' (choose {', '.join(LISTS)}, or a folder of task files)",
                          field="WHAT"))
    if what == "tasks":
        _list_tasks(folder)
        return
    try:
        entries = ALL[what].entries()
    except HarnessError as exc:
        fail(exc)
    table = Table()
    for col in (what[:-1], "what it is", "from"):
        table.add_column(col)
    for e in entries:
        table.add_row(e.name, e.help, e.module)
    print_table(table)


def _list_tasks(folder: Path) -> None:
    from harness.config.task import load_task

    files = sorted(folder.glob("*.yaml")) + sorted(folder.glob("*.yml"))
    if not files:
        fail(HarnessError("no task files (*.yaml) here", file=folder))
    table = Table()
    for col in ("task", "type", "file", "description"):
        table.add_column(col)
    for f in files:
        try:
            t = load_task(f)
            table.add_row(t.spec.name, t.spec.type, str(f), t.spec.description.strip().split("\n")[0])
        except HarnessError as exc:
            table.add_row(Text("invalid", style="red"), "", str(f), str(exc))
    print_table(table)


def validate(
    ctx: typer.Context,
    files: Annotated[list[Path], typer.Argument(help="Task YAML files.", show_default=False)],
    data: Annotated[bool, typer.Option(help="Also load the dataset and render every prompt.")] = True,
    allow_path: Annotated[list[Path] | None, typer.Option("--allow-path", help=ALLOW_HELP)] = None,
) -> None:
    """Check task files: schema, templates and (by default) every dataset row and prompt."""
    from harness.config.task import load_task
    from harness.data.items import TaskData
    from harness.pipeline.plan import planned_chunks
    from harness.variants.arms import may_skip
    from harness.variants.build import follow_up

    allow_paths(ctx, allow_path)
    failed = 0
    for f in files:
        try:
            task = load_task(f)
            detail = ""
            if data:
                dataset = TaskData(task)
                for chunk in planned_chunks(task, dataset, seed=0):  # one chunk unless the dataset is streamed
                    for i in chunk.dialogues:  # follow-ups are written after the first answer: render them too
                        follow_up(task, chunk.variants[i], None)
                    for arm, count in may_skip(task, chunk.items).items():
                        out.print(f"note {f}: {arm} cannot apply to {count} items with too few options (after a wrong "
                                  "first answer, for are_you_sure_wrong); they are skipped and counted in "
                                  "counts.skipped", markup=False, highlight=False)
                detail = f", {dataset.count} items"
            out.print(f"ok  {f} ({task.spec.name}{detail})", markup=False, highlight=False)
        except HarnessError as exc:
            failed += 1
            err.print(f"harness: error: {exc}", markup=False, highlight=False, soft_wrap=True)
    if failed:
        raise typer.Exit(2)


def perturbations() -> None:
    """List the perturbations a task's `perturbations:` steps can name, with their parameters
    (the parameters are also in `harness schema`)."""
    from harness.variants.perturbations import REGISTRY

    table = Table()
    for col in ("kind", "scope", "parameters", "what it does"):
        table.add_column(col)
    for name, p in sorted(REGISTRY.items()):
        params = ", ".join(f"{k}={f.default!r}" if not f.is_required() else k
                           for k, f in p.params.model_fields.items()
                           if k != "kind" and (k != "on" or p.params.targets_text))
        table.add_row(name, p.scope, params, p.description)
    print_table(table)


def schema() -> None:
    """Print the JSON schema of task files, every registered kind and perturbation (for editor completion)."""
    from harness.config.task import task_adapter

    try:
        schema = task_adapter().json_schema()
    except HarnessError as exc:
        fail(exc)
    sys.stdout.write(json.dumps(schema, indent=2) + "\n")


