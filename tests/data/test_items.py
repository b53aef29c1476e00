import json

import pytest

from harness.config.task import load_task
from harness.core.errors import HarnessError
from harness.data.items import load_items
from harness.kinds.multiple_choice import parse_option_block
from tests.conftest import ROOT, ROWS, needs_shared_data, task_yaml


def items_or_error(make_task, rows=None, yaml_text=None):
    task = load_task(make_task(rows=rows, yaml_text=yaml_text))
    return load_items(task)


def test_rows_become_items(make_task):
    items = items_or_error(make_task)
    assert [i.id for i in items] == ["q1", "q2", "q3"]
    assert items[0].target == 1 and items[0].target_label == "B"
    assert items[2].groups == {"domain": "math"}


def test_csv_with_one_column_per_option(tmp_path, make_task):
    (tmp_path / "d.csv").write_text("q,a,b,c,d,gold\nWhat is 1+1?,1,2,3,4,1\n")
    yaml_text = task_yaml("d.csv", fields="fields:\n  question: q",
                          choices="choices:\n  fields: [a, b, c, d]",
                          target="target:\n  field: gold\n  format: index", groups="")
    items = items_or_error(make_task, yaml_text=yaml_text)
    assert items[0].choices == ["1", "2", "3", "4"]
    assert items[0].target_label == "B"
    assert items[0].id == "0"


def test_option_block():
    assert parse_option_block("(A)True, True\n(B)False\n(C) x (y)\n(D)4", list("ABCD")) == \
        ["True, True", "False", "x (y)", "4"]
    with pytest.raises(ValueError, match=r"no '\(D\)'"):
        parse_option_block("(A)1 (B)2 (C)3", list("ABCD"))


@pytest.mark.parametrize(
    ("row_update", "field", "fragment"),
    [
        ({"answer": "E"}, "answer", "not one of the labels"),
        ({"choices": ["x", "y", "z"]}, "choices", "has 3 options"),
        ({"question": ""}, "question", "non-empty"),
        ({"answer": None}, "answer", "missing"),
        ({"choices": ["x", "", "z", "w"]}, "choices", "empty"),
    ],
)
def test_bad_rows_name_row_and_field(make_task, row_update, field, fragment):
    rows = [dict(r) for r in ROWS]
    rows[1].update(row_update)
    with pytest.raises(HarnessError) as info:
        items_or_error(make_task, rows=rows)
    assert info.value.field == field
    assert "row 2" in info.value.message and fragment in info.value.message


def test_every_bad_row_is_counted(make_task):
    rows = [dict(r, answer="Z") for r in ROWS]
    with pytest.raises(HarnessError, match=r"row 1: .*2 more bad rows: 2, 3"):
        items_or_error(make_task, rows=rows)


def test_missing_column_names_the_task_field(make_task):
    with pytest.raises(HarnessError) as info:
        items_or_error(make_task, yaml_text=task_yaml(groups="groups: [region]"))
    assert info.value.field == "groups.0"
    assert "column 'region'" in info.value.message
    assert info.value.file.endswith("task.yaml")


def test_duplicate_ids(make_task):
    rows = [dict(r, id="same") for r in ROWS]
    with pytest.raises(HarnessError, match="duplicate item id 'same'"):
        items_or_error(make_task, rows=rows)


def test_missing_dataset_file_and_empty_dataset(tmp_path, make_task):
    with pytest.raises(HarnessError, match="dataset file not found"):
        items_or_error(make_task, yaml_text=task_yaml("nothere.jsonl"))
    (tmp_path / "empty.csv").write_text("id,question,choices,answer,domain\n")
    with pytest.raises(HarnessError, match="no rows"):
        items_or_error(make_task, yaml_text=task_yaml("empty.csv"))


def test_limit(make_task):
    text = task_yaml() + "limit: 2\n"
    assert len(items_or_error(make_task, yaml_text=text)) == 2


def test_builtin_dataset_is_balanced():
    from tests.conftest import ROOT

    rows = [json.loads(x) for x in (ROOT / "tasks/data/general_knowledge.jsonl").read_text().splitlines()]
    domains = {r["domain"] for r in rows}
    assert len(rows) >= 120 and len(domains) >= 10
    assert all(len(r["choices"]) == 4 and len(set(r["choices"])) == 4 for r in rows)
    letters = [r["answer"] for r in rows]
    assert {letters.count(x) for x in "ABCD"} == {len(rows) // 4}


@needs_shared_data("parrot_mmlu")
def test_parrot_items_load_with_13_subjects():
    from tests.conftest import ROOT

    items = load_items(load_task(ROOT / "tasks" / "parrot.yaml"))
    assert len(items) == 1302
    assert len({i.groups["base.subset"] for i in items}) == 13
    assert all(len(i.choices) == 4 for i in items)


def test_get_field_finds_keys_that_hold_dots():
    from harness.data.items import MISSING, get_field

    row = {"results": {"Mistral-7B-v0.2": "yes", "a": {"b": 1}}}
    assert get_field(row, "results.Mistral-7B-v0.2") == "yes"
    assert get_field(row, "results.a.b") == 1
    assert get_field(row, "results.nope") is MISSING and get_field(row, "results.a.b.c") is MISSING


def subsets_task(tmp_path, dataset_extra=""):
    for name in ("yes", "no"):
        (tmp_path / f"{name}.jsonl").write_text(json.dumps({"id": name, "q": "Where?", "p": ["x"]}) + "\n")
    (tmp_path / "t.yaml").write_text(
        "name: s\ntype: rag\ndataset:\n  subsets:\n    relevant: yes.jsonl\n    non_relevant: no.jsonl\n"
        f"{dataset_extra}fields:\n  id: id\n  question: q\nrag:\n  passages: p\n  relevant: subset\n"
        f"  relevant_values: [relevant]\nprompt:\n  template: {ROOT / 'prompts' / 'rag' / 'vanilla.j2'}\n"
        "answer: generate\ngroups: [subset]\n")
    return load_task(tmp_path / "t.yaml")


def test_subsets_add_a_subset_column(tmp_path):
    items = load_items(subsets_task(tmp_path))
    assert [(i.id, i.groups["subset"], i.target_label) for i in items] == [
        ("yes", "relevant", "answer"), ("no", "non_relevant", "no_answer")]
    assert items[0].passages[0].number == 1 and items[0].passages[0].text == "x"


def test_group_intersections(make_task):
    rows = [dict(r, level=lvl) for r, lvl in zip(ROWS, ["easy", "hard", "easy"])]
    path = make_task(rows, task_yaml(groups="groups: [domain, [domain, level]]"))
    task = load_task(path)
    assert task.group_keys == ["domain", "domain × level"]
    assert [i.groups for i in load_items(task)][:2] == [{"domain": "geo", "domain × level": "geo × easy"},
                                                        {"domain": "geo", "domain × level": "geo × hard"}]
    bad = make_task(rows, task_yaml(groups="groups: [[domain, nope]]"), name="bad.yaml")
    with pytest.raises(HarnessError, match="column 'nope' is not in the dataset") as info:
        load_items(load_task(bad))
    assert info.value.field == "groups.0.1"


def many_rows(n):
    return [dict(ROWS[i % 3], id=f"q{i}") for i in range(n)]


def stream_yaml(extra="streaming: true\n  chunk_items: 4", **overrides):
    return task_yaml(dataset=f"dataset:\n  path: data.jsonl\n  {extra}", **overrides)


def test_a_streamed_dataset_gives_the_same_items_in_chunks(make_task):
    from harness.data.items import TaskData

    whole = TaskData(load_task(make_task(many_rows(10), task_yaml(), name="whole.yaml")))
    streamed = TaskData(load_task(make_task(many_rows(10), stream_yaml(), name="streamed.yaml")))
    assert not whole.streamed and streamed.streamed and whole.count == streamed.count == 10
    assert [len(c) for c in whole.chunks()] == [10]
    assert [len(c) for c in streamed.chunks()] == [4, 4, 2]
    assert [i for c in streamed.chunks() for i in c] == [i for c in whole.chunks() for i in c]
    limited = TaskData(load_task(make_task(many_rows(10), stream_yaml() + "limit: 5\n", name="limited.yaml")))
    assert [len(c) for c in limited.chunks()] == [4, 1]


def test_large_local_files_are_streamed_by_default(make_task, monkeypatch):
    import harness.data.rows
    from harness.data.items import TaskData

    path = make_task(many_rows(6))
    assert not TaskData(load_task(path)).streamed
    monkeypatch.setattr(harness.data.rows, "STREAM_ABOVE_BYTES", 100)  # the file holds more than 100 bytes
    assert TaskData(load_task(path)).streamed
    forced = make_task(many_rows(6), stream_yaml("streaming: false"), name="forced.yaml")
    assert not TaskData(load_task(forced)).streamed


def test_a_streamed_dataset_names_its_bad_rows_before_anything_runs(make_task):
    rows = many_rows(12)
    rows[6]["answer"] = "Z"
    rows[10]["answer"] = "Q"
    with pytest.raises(HarnessError, match=r"row 7: answer 'Z' is not one of the labels.*1 more bad rows: 11\)"):
        load_items(load_task(make_task(rows, stream_yaml())))
    rows = many_rows(12)
    rows[9]["id"] = "q2"
    with pytest.raises(HarnessError, match="row 10: duplicate item id 'q2' \\(first at row 3\\)"):
        load_items(load_task(make_task(rows, stream_yaml())))
    with pytest.raises(HarnessError, match="column 'nope' is not in the dataset") as info:
        load_items(load_task(make_task(many_rows(5), stream_yaml(groups="groups: [nope]"))))
    assert info.value.field == "groups.0"


def test_a_malformed_line_met_while_streaming_is_one_error(make_task, tmp_path):
    path = make_task(many_rows(3000), stream_yaml())
    with (tmp_path / "data.jsonl").open("a") as fh:
        fh.write('{"id": "broken", "question": \n')
    with pytest.raises(HarnessError, match="line 3001: not JSON") as info:
        load_items(load_task(path))
    assert info.value.file == str(tmp_path / "data.jsonl")


def test_streamed_subsets_add_a_subset_column(tmp_path):
    items = load_items(subsets_task(tmp_path, "  streaming: true\n"))
    assert [(i.id, i.groups["subset"], i.target_label) for i in items] == [
        ("yes", "relevant", "answer"), ("no", "non_relevant", "no_answer")]
