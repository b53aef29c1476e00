"""Every task file the project ships (tasks/ and the benchmarks' own tasks) passes the task schema, its
templates included, without reading its dataset (some live in ../shared/data)."""

import pytest
import yaml

from harness.config.task import load_task
from tests.conftest import ROOT

SHIPPED = sorted([*(ROOT / "tasks").glob("*.yaml"),
                  *(p for p in (ROOT / "benchmarks").glob("*.yaml") if "type" in yaml.safe_load(p.read_text()))])


def test_the_benchmarks_tasks_are_found():
    assert {"parrot_mc.yaml", "recode_humaneval_n10.yaml"} <= {p.name for p in SHIPPED}


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_shipped_task_loads(path):
    task = load_task(path)
    assert task.spec.name
