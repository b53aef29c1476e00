"""The consoles every command prints on, and the one way a command fails: one line, exit 2."""

from __future__ import annotations

import re

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from harness.core.errors import HarnessError

# Dataset and model text is printed as it is: no rich markup, emoji codes (`:x:`) or highlighting, and
# long lines (paths) are not broken.
out = Console(markup=False, emoji=False, highlight=False, soft_wrap=True)
err = Console(stderr=True, markup=False, emoji=False, highlight=False, soft_wrap=True)


def fail(exc: HarnessError) -> None:
    err.print(f"harness: error: {exc}", markup=False, highlight=False, soft_wrap=True)
    raise typer.Exit(2)


def skipped(exc: HarnessError) -> None:
    err.print(f"harness: warning: {exc}; left out of the report")


def slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-")[:60]


def quiet_libraries(verbose: bool = False) -> None:
    """No progress bars of transformers and datasets (harness draws its own); their warnings stay, and go to
    the run's log unless `verbose` (harness.cli.logs)."""
    if verbose:
        return
    import datasets
    import transformers

    transformers.utils.logging.disable_progress_bar()
    datasets.utils.logging.disable_progress_bar()


def _cell(value: object) -> str:
    text = value.plain if isinstance(value, Text) else str(value)
    return text.replace("|", "\\|").replace("\r\n", "<br>").replace("\n", "<br>")


def markdown_table(table: Table) -> str:
    """A rich table as a GitHub-flavoured markdown table, every cell whole (`|` escaped, line breaks as
    `<br>`), under its title: what a pipe or a file gets instead of a box cut to 80 columns."""
    columns = table.columns
    head = [_cell(c.header) for c in columns]
    rows = zip(*(list(c.cells) for c in columns)) if columns else iter(())
    lines = [f"| {' | '.join(head)} |", f"|{'|'.join('---' for _ in head)}|"]
    lines += [f"| {' | '.join(_cell(v) for v in row)} |" for row in rows]
    title = _cell(table.title) if table.title else None
    return "\n".join(([title, ""] if title else []) + lines)


def print_table(table: Table) -> None:
    """A table on stdout: a box on a terminal, a markdown table (full cell text) when piped or redirected."""
    if out.is_terminal:
        out.print(table)
    else:
        out.print(markdown_table(table), markup=False, highlight=False, soft_wrap=True)


def print_exact(text: str) -> None:
    """Text on stdout byte for byte: no wrapping, tabs kept, nothing rich would render (a prompt as the model
    gets it)."""
    out.file.write(text if text.endswith("\n") else text + "\n")
    out.file.flush()
