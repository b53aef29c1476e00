"""`harness cache info | clear`: the request cache."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from harness.cli.console import fail, out
from harness.core.errors import HarnessError

cache_app = typer.Typer(help="Inspect or clear the request cache.", no_args_is_help=True)


def default_cache() -> Path:
    from harness.backends.models import cache_home

    return cache_home() / "cache.sqlite"


@cache_app.command("info")
def cache_info(path: Annotated[Path | None, typer.Option("--cache", help="Cache file.")] = None) -> None:
    """How many responses the cache holds, per model."""
    from harness.pipeline.cache import RequestCache

    target = path or default_cache()
    try:
        stats = RequestCache(target).info()
    except HarnessError as exc:
        fail(exc)
    out.print(f"{target}", markup=False)
    for k, v in stats.items():
        out.print(f"  {k}: {v}", markup=False, highlight=False)


@cache_app.command("clear")
def cache_clear(path: Annotated[Path | None, typer.Option("--cache", help="Cache file.")] = None) -> None:
    """Delete every cached response (a damaged cache file is removed)."""
    from harness.pipeline.cache import clear_cache

    target = path or default_cache()
    try:
        n = clear_cache(target)
    except HarnessError as exc:
        fail(exc)
    out.print(f"cleared {n} cached responses" if n is not None else
              f"removed the damaged cache file {target} (its responses are lost)")


