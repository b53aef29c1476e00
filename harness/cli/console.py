"""The consoles every command prints on, and the one way a command fails: one line, exit 2."""

from __future__ import annotations

import re

import typer
from rich.console import Console

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


def quiet_libraries() -> None:
    import datasets
    import transformers

    transformers.utils.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
    datasets.utils.logging.set_verbosity_error()


