"""Finding a task by name: `harness run sycophancy` runs tasks/sycophancy.yaml.

An argument that is a file is that file. Otherwise it is looked up, in this order, among the
`*.yaml` files (and `groups/*.yaml` task groups) of
- the folders in `HARNESS_TASK_PATH` (separated by `os.pathsep`),
- `./tasks` of the current folder,
- the built-in tasks shipped with harness (harness/config/paths.py `TASKS`).
A name is a file's stem (`general_knowledge` for general_knowledge.yaml); the first folder that has it
wins. A name found nowhere is one error line with the close matches.
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path

from harness.config.paths import TASKS
from harness.core.errors import HarnessError

TASK_PATH_ENV = "HARNESS_TASK_PATH"


def task_folders() -> list[Path]:
    """The folders searched for task names, first match wins (existing folders only, each once)."""
    extra = [Path(p).expanduser() for p in os.environ.get(TASK_PATH_ENV, "").split(os.pathsep) if p.strip()]
    folders: list[Path] = []
    for folder in (*extra, Path("tasks"), TASKS):
        if folder.is_dir() and all(folder.resolve() != f.resolve() for f in folders):
            folders.append(folder)
    return folders


def known_tasks() -> dict[str, Path]:
    """Every task and task-group name the search path offers, with its file (first folder wins)."""
    found: dict[str, Path] = {}
    for folder in task_folders():
        for sub in (folder, folder / "groups"):
            for f in sorted([*sub.glob("*.yaml"), *sub.glob("*.yml")]):
                found.setdefault(f.stem, f)
    return found


def find_task(arg: str | Path) -> Path:
    """The task (or task group) file `arg` names: a path to a file, or a name on the search path."""
    path = Path(arg)
    if path.is_file():
        return path
    if path.is_dir():
        raise HarnessError("is a directory, not a task file (`harness list FOLDER` lists its tasks)", file=path)
    known = known_tasks()
    name = str(arg)
    if name in known:
        return known[name]
    close = difflib.get_close_matches(path.stem, list(known), n=3, cutoff=0.7)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    if len(path.parts) > 1 or path.suffix in (".yaml", ".yml"):  # meant as a file
        also = f" (did you mean the task {', '.join(close)}?)" if close else ""
        raise HarnessError(f"file not found{also}", file=path)
    raise HarnessError(f"'{name}' is neither a task file nor a known task name{hint} (`harness list` shows the "
                       f"names; {TASK_PATH_ENV} adds folders)")
