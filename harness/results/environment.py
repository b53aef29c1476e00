"""Record what affects results: package versions, Python, platform, git commit."""

from __future__ import annotations

import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path

from harness import __version__
from harness.results.schema import Environment

PACKAGES = ("torch", "transformers", "datasets", "numpy", "pydantic", "jinja2", "vllm", "accelerate", "gguf")


def _git(args: list[str], cwd: Path) -> str | None:
    try:
        out = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def capture() -> Environment:
    packages = {}
    for name in PACKAGES:
        try:
            packages[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    root = Path(__file__).resolve().parents[2]
    commit = _git(["rev-parse", "HEAD"], root)
    status = _git(["status", "--porcelain", "--untracked-files=no"], root) if commit else None
    return Environment(harness_version=__version__, python=sys.version.split()[0],
                       platform=platform.platform(), packages=packages, git_commit=commit,
                       git_dirty=bool(status) if status is not None else None)
