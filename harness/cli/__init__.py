"""The `harness` command line (typer): `main` is the console script."""

from harness.cli.main import app, main

__all__ = ["app", "main"]
