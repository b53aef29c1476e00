"""Templates see the row without its target columns (harness/data/targets.py)."""

from harness.config.task import load_task
from harness.config.templates import TemplateRow
from harness.data.targets import template_row
from harness.kinds.rag import is_one_of
from tests.conftest import PROMPT, task_yaml

ROW = {"id": "q1", "answer": "B", "meta": {"answer": "C", "source": "atlas"}, "meta.answer": "D", "note": "n"}


def test_target_columns_are_removed(make_task):
    task = load_task(make_task())
    row = template_row(task, ROW)
    assert isinstance(row, TemplateRow) and "answer" not in row and row["meta"] == ROW["meta"]
    assert ROW["answer"] == "B"  # the item keeps its row


def test_a_dotted_target_is_removed_where_get_field_would_read_it(make_task):
    task = load_task(make_task(yaml_text=task_yaml(target="target:\n  field: meta.answer")))
    row = template_row(task, ROW)
    assert "meta.answer" not in row and row["answer"] == "B"
    assert row["meta"] == {"source": "atlas"} and row["meta"]._path == "meta."


def test_opt_in(make_task):
    task = load_task(make_task(yaml_text=task_yaml(prompt=f"prompt:\n  template: {PROMPT}\n  row_targets: true")))
    assert template_row(task, ROW) is ROW


def test_text_cells_spell_booleans_and_numbers():
    assert is_one_of("True", [True]) and is_one_of(" 1 ", [True]) and is_one_of("false", [False])
    assert is_one_of("2", [2]) and is_one_of(True, [True]) and is_one_of("relevant", ["relevant"])
    assert not is_one_of("yes", [True]) and not is_one_of("0", [True]) and not is_one_of(None, [True])
