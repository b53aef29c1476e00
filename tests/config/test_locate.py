"""Task names: the search path, first folder wins, close matches for a name found nowhere."""

import pytest

from harness.config.locate import find_task, known_tasks
from harness.core.errors import HarnessError
from tests.conftest import ROOT


def test_builtin_names_and_groups(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no ./tasks here: the built-in folder answers
    assert find_task("robustness") == ROOT / "tasks" / "robustness.yaml"
    assert find_task("robustness_suite") == ROOT / "tasks" / "groups" / "robustness_suite.yaml"
    assert {"general_knowledge", "sycophancy", "nomiracl"} <= set(known_tasks())


def test_first_folder_wins_and_files_stay_files(tmp_path, monkeypatch):
    (tmp_path / "robustness.yaml").write_text("name: mine\n")
    monkeypatch.setenv("HARNESS_TASK_PATH", str(tmp_path))
    assert find_task("robustness") == tmp_path / "robustness.yaml"
    assert find_task(tmp_path / "robustness.yaml") == tmp_path / "robustness.yaml"


def test_unknown_names(tmp_path):
    with pytest.raises(HarnessError, match=r"did you mean general_knowledge\b"):
        find_task("general_knowledg")
    with pytest.raises(HarnessError, match="is a directory"):
        find_task(tmp_path)
    with pytest.raises(HarnessError, match="neither a task file nor a known task name \\("):
        find_task("zzzzzz")
    with pytest.raises(HarnessError, match=r"^zzzzzz.yaml: file not found$"):
        find_task("zzzzzz.yaml")
    with pytest.raises(HarnessError, match=r"^tasks/robustnes.yaml: file not found \(did you mean the task robus"):
        find_task("tasks/robustnes.yaml")
