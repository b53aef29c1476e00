import json

import pytest

from harness.config.task import load_task
from harness.core.errors import HarnessError
from tests.conftest import ROOT, task_yaml


def bad(make_task, **overrides) -> HarnessError:
    path = make_task(yaml_text=task_yaml(**overrides))
    with pytest.raises(HarnessError) as info:
        load_task(path)
    return info.value


def test_valid_task_loads(make_task):
    task = load_task(make_task())
    assert task.spec.name == "tiny"
    assert task.spec.choices.labels == ["A", "B", "C", "D"]
    assert task.spec.answer == "logprobs"
    assert len(task.config_hash) == 16


def test_unknown_key_names_field_and_line(make_task):
    exc = bad(make_task, choices="choices:\n  field: choices\n  colour: red")
    assert exc.field == "choices.colour"
    assert exc.line == 10
    assert "unknown key" in str(exc)


def test_wrong_type(make_task):
    exc = bad(make_task, groups="groups: 7")
    assert exc.field == "groups"
    assert "list" in exc.message


def test_missing_required_key(make_task):
    exc = bad(make_task, target="")
    assert exc.field == "target"
    assert "required" in exc.message


def test_missing_template(make_task):
    exc = bad(make_task, prompt="prompt:\n  template: nowhere.j2")
    assert exc.field == "prompt.template"
    assert "not found" in exc.message


def test_choices_take_at_most_one_source(make_task):
    exc = bad(make_task, choices="choices:\n  field: choices\n  block: opts")
    assert exc.field == "choices"
    assert "at most one" in exc.message and "none: the options are in the prompt" in exc.message


def test_unknown_metric_and_answer_mode(make_task):
    assert bad(make_task, groups="metrics: [accuracy, vibes]").field == "metrics.1"
    assert bad(make_task, groups="answer: guess").field == "answer"


def test_schema_is_json_and_forbids_extra_keys():
    from harness.config.task import task_adapter

    schema = task_adapter().json_schema()
    json.dumps(schema)
    kinds = {name: schema["$defs"][name] for name in ("MultipleChoiceSpec", "RagTaskSpec", "OpenAnswerTaskSpec")}
    for spec in kinds.values():  # each kind's own keys, exactly
        assert spec["additionalProperties"] is False
        assert "dataset" in spec["required"]
    assert {"choices", "target"} <= set(kinds["MultipleChoiceSpec"]["required"])
    assert "rag" in kinds["RagTaskSpec"]["required"] and "choices" not in kinds["RagTaskSpec"]["properties"]
    # perturbation steps are typed by their own parameter models
    assert "TyposParams" in schema["$defs"] or any(k.endswith("Params") for k in schema["$defs"])


def test_a_key_of_another_kind_is_named(make_task):
    err = bad(make_task, groups="rag:\n  relevant: x")
    assert err.field == "rag" and "takes no `rag`" in err.message


RAG = ("name: r\ntype: rag\ndataset:\n  path: d.jsonl\nfields:\n  question: q\nrag:\n  relevant: rel\n"
       "prompt:\n  template: {template}\nanswer: generate\n")


@pytest.mark.parametrize(("change", "fragment"), [
    (("rag:\n  relevant: rel\n", ""), "required key is missing (a rag task needs it)"),
    (("answer: generate\n", ""), "set `answer: generate`"),
    (("type: rag\n", "type: multiple_choice\n"), "required key is missing (a multiple_choice task"),
    (("  path: d.jsonl\n", "  path: d.jsonl\n  subsets: {a: x.jsonl}\n"), "exactly one of 'path' or 'subsets'"),
])
def test_rag_task_shape_errors(tmp_path, change, fragment):
    from harness.config.task import load_task
    from harness.core.errors import HarnessError

    text = RAG.format(template=ROOT / "prompts" / "rag" / "vanilla.j2").replace(*change)
    (tmp_path / "t.yaml").write_text(text)
    with pytest.raises(HarnessError, match=fragment.replace("`", ".").replace("(", ".").replace(")", ".")):
        load_task(tmp_path / "t.yaml")


def test_open_answer_task_shape(tmp_path):
    from harness.config.task import load_task
    from harness.core.errors import HarnessError

    text = ("name: o\ntype: open_answer\ndataset:\n  path: d.jsonl\nfields:\n  question: q\nopen_answer:\n"
            f"  answers: a\n  abstain_patterns: ['(unclosed']\nprompt:\n"
            f"  template: {ROOT / 'prompts' / 'open' / 'question.j2'}\nanswer: generate\n")
    (tmp_path / "t.yaml").write_text(text)
    with pytest.raises(HarnessError, match="not a regular expression") as info:
        load_task(tmp_path / "t.yaml")
    assert info.value.field == "open_answer.abstain_patterns.0" and info.value.line == 9
    (tmp_path / "t.yaml").write_text(text.replace("  abstain_patterns: ['(unclosed']\n", "").replace(
        "answer: generate\n", ""))
    with pytest.raises(HarnessError, match="set .answer: generate."):
        load_task(tmp_path / "t.yaml")


def test_stats_block_sets_group_size_resamples_and_level(make_task):
    """Issue 15 defect 5: min_group_size, bootstrap_resamples and ci_level are task keys."""
    task = load_task(make_task(yaml_text=task_yaml(stats="stats:\n  min_group_size: 3\n  bootstrap_resamples: 400\n"
                                                         "  ci_level: 0.9")))
    assert (task.spec.stats.min_group_size, task.spec.stats.bootstrap_resamples, task.spec.stats.ci_level) == \
        (3, 400, 0.9)
    default = load_task(make_task()).spec.stats
    assert (default.min_group_size, default.bootstrap_resamples, default.ci_level) == (10, 1000, 0.95)


def test_stats_block_bad_value_names_field_and_line(make_task):
    exc = bad(make_task, stats="stats:\n  ci_level: 95")
    assert exc.field == "stats.ci_level" and exc.line == 16 and "less than 1" in exc.message


def test_the_docs_mark_every_required_key():
    """docs/tasks.md (and docs/code.md for `code:`) mark each key the task schema requires with `# required`."""
    import re

    from harness.config.task import task_adapter

    defs = task_adapter().json_schema()["$defs"]
    specs = [name for name in defs if name.endswith("Spec") and name != "PerturbedSetSpec"]  # sets: docs/code.md
    docs = (ROOT / "docs" / "tasks.md").read_text() + (ROOT / "docs" / "code.md").read_text()
    unmarked = sorted({f"{spec}.{key}" for spec in specs for key in defs[spec].get("required", [])
                       if not re.search(rf"^\s*(- )?{key}:.*# required", docs, re.M)})
    assert not unmarked, f"required keys not marked in docs/tasks.md: {unmarked}"
    assert len({k for spec in specs for k in defs[spec].get("required", [])}) >= 15
