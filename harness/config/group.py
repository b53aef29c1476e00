"""Task groups: a YAML file that lists tasks run together and scored as one, e.g.

    group: robustness_suite
    description: ...
    tasks: [general_knowledge, robustness, sycophancy]

Each entry is a task name (harness/config/locate.py) or a file path relative to the group file. A group is
run by path or by name like a task; its aggregate (macro and micro accuracy) is in harness/metrics/aggregate.py.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from harness.config.locate import find_task
from harness.config.spec import Name
from harness.config.yamlfile import load_yaml_mapping, validate
from harness.core.errors import HarnessError
from harness.core.records import Strict


class GroupSpec(Strict):
    """A task group file."""

    group: Name = Field(description="The group's name in results and the console.")
    description: str = ""
    tasks: list[str] = Field(min_length=1, description="Task names or task files (relative to this file).")


def is_group_file(file: Path) -> bool:
    """Whether a YAML file is a task group (a top-level `group:` key) rather than a task."""
    try:
        return "group" in load_yaml_mapping(file).data
    except HarnessError:
        return False  # the task loader reports what is wrong with it


def load_group(file: Path) -> tuple[GroupSpec, list[Path]]:
    """The group and its task files, each checked to exist (not yet loaded)."""
    doc = load_yaml_mapping(file)
    spec = validate(GroupSpec, doc)
    files = []
    for i, entry in enumerate(spec.tasks):
        relative = file.parent / entry
        try:
            found = relative if relative.is_file() else find_task(entry)
        except HarnessError as exc:
            raise doc.error(exc.message, ("tasks", i)) from None
        if is_group_file(found):
            raise doc.error(f"'{entry}' is a task group; a group lists tasks, not groups", ("tasks", i))
        files.append(found)
    return spec, files
