"""Command-line values checked before anything is loaded, and the app run so that nothing ends
in a traceback: a bad value, click's usage errors (an unknown option, `--limit 0`, instead of a
framed box), a full disk, all are one line and exit 2.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import typer

from harness.config.paths import allowing
from harness.core.errors import HarnessError

INT64_MAX = 2**63 - 1  # what islice, numpy and the servers accept as a count or a seed
ALLOW_HELP = ("A folder whose files task files may name, besides their own folder and the project's prompts/ "
              "(repeatable; also HARNESS_ALLOW_PATHS).")


def check_device(device: str, backend: str) -> None:
    """`--device`: auto, cpu, cuda or cuda:N; a GPU asked for must be visible to torch."""
    if device in ("auto", "cpu"):
        return
    m = re.fullmatch(r"cuda(?::(\d+))?", device)
    if m is None:
        raise HarnessError(f"unknown device '{device}' (choose auto, cpu, cuda or cuda:N)", field="--device")
    if backend == "openai":  # the server picks its own device
        return
    import torch

    count = torch.cuda.device_count() if torch.cuda.is_available() else 0
    if count == 0:
        raise HarnessError(f"no CUDA GPU is visible here for '{device}' (use --device cpu or auto)", field="--device")
    if int(m.group(1) or 0) >= count:
        raise HarnessError(f"'{device}' does not exist: {count} CUDA GPU(s) visible (cuda:0 to cuda:{count - 1})",
                           field="--device")


def _click_exceptions():  # type: ignore[no-untyped-def]
    """The click that typer runs on: its own copy since typer 0.2x, the click package before."""
    try:
        from typer._click import exceptions
    except ImportError:
        from click import exceptions
    return exceptions


def _aborts(click) -> tuple[type[BaseException], ...]:  # type: ignore[no-untyped-def]
    """click's Abort where this typer has one (typer's own click copy lacks it)."""
    abort = getattr(click, "Abort", None)
    return (abort,) if isinstance(abort, type) else ()


def run_app(app: Callable[..., object], say: Callable[[str], None]) -> int:
    """Run the typer app and return its exit code. Whatever stops it early is one line through `say`:
    a usage error (exit 2), an interrupt (130), a full disk or a folder we may not write (2)."""
    import sqlite3

    click = _click_exceptions()
    try:
        code = app(standalone_mode=False)
    except click.NoArgsIsHelpError as exc:  # `harness cache`: the group's help
        print(exc.format_message())
        return 2
    except click.ClickException as exc:
        ctx = getattr(exc, "ctx", None)
        command = ctx.command_path if ctx is not None else "harness"
        say(f"harness: error: {' '.join(exc.format_message().split())} (see {command} --help)")
        return exc.exit_code
    except (*_aborts(click), KeyboardInterrupt):
        say("harness: interrupted")
        return 130
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        say(f"harness: error: {where}{exc.strerror or exc} (nothing was presented as complete: a run without "
            "results.json is unfinished, and re-running resumes from the cache)")
        return 2
    except sqlite3.Error as exc:
        say(f"harness: error: the request cache failed: {exc}")
        return 2
    return code if isinstance(code, int) else 0


def allow_paths(ctx: typer.Context, folders: list[Path] | None) -> None:
    """`--allow-path`: folders task files may name files in, for the running command only."""
    if folders:
        ctx.with_resource(allowing(folders))
