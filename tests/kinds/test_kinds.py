"""Each built-in kind: its spec, the columns it reads, its items, its candidates and its checks."""

import pytest

from harness.config.task import load_task
from harness.core.errors import HarnessError
from harness.core.plugins import KINDS
from harness.data.items import load_items
from harness.kinds.base import TaskKind
from harness.variants.build import make_variants
from tests.conftest import ROOT, needs_shared_data


def test_every_builtin_kind_is_registered_with_its_own_spec():
    assert {"multiple_choice", "rag", "open_answer"} <= set(KINDS.names())
    for name, kind in KINDS.items():
        assert issubclass(kind, TaskKind)
        assert kind.spec.model_fields["type"].annotation.__args__ == (name,)


@pytest.mark.parametrize(("file", "kind", "candidates"), [
    ("general_knowledge.yaml", "multiple_choice", ("A", "B", "C", "D")),
    ("rag_facts.yaml", "rag", ()),
    ("open_facts.yaml", "open_answer", ()),
])
def test_kind_of_each_builtin_task(file, kind, candidates):
    task = load_task(ROOT / "tasks" / file)
    assert type(task.kind).__name__ and task.spec.type == kind
    items = load_items(task)
    variant = make_variants(task, items[:1])[0]
    assert task.kind.candidates(task, variant) == candidates
    columns = [c for c, _ in task.kind.columns(task.spec)]
    assert all(c.split(".")[0] in items[0].row for c in columns)


def test_rag_items_carry_passages_for_templates():
    task = load_task(ROOT / "tasks" / "rag_facts.yaml")
    variant = make_variants(task, load_items(task)[:1])[0]
    context = task.kind.template_context(variant)
    assert context["passages"] and {"number", "title", "text"} <= set(context["passages"][0])


def test_text_kinds_refuse_logprob_answers_and_variant_blocks(tmp_path):
    text = (ROOT / "tasks" / "open_facts.yaml").read_text()
    (tmp_path / "t.yaml").write_text(text.replace("answer: generate", "answer: logprobs")
                                     .replace("path: data/", f"path: {ROOT / 'tasks' / 'data'}/")
                                     .replace("../prompts", str(ROOT / "prompts")))
    with pytest.raises(HarnessError, match="answered in text"):
        load_task(tmp_path / "t.yaml")


@needs_shared_data("nomiracl_en")
def test_nomiracl_kind_loads_the_shared_data():
    task = load_task(ROOT / "tasks" / "nomiracl.yaml").with_limit(3)
    assert task.spec.type == "rag" and len(load_items(task)) == 3
