"""Instruction rewording: inline lists, JSON lists, PromptBench's prompt file; `{task}` filled; task scope."""

from __future__ import annotations

import json

import pytest

from harness.variants.perturbations import Prompt, load_instructions
from harness.variants.perturbations.instruction import DEFAULT_TOPIC, clean_instruction
from tests.variants.perturbations.helpers import DATA, PROMPTBENCH, run

needs_promptbench = pytest.mark.skipif(not PROMPTBENCH.exists(), reason=f"{PROMPTBENCH} is absent (third-party data)")

BASE = Prompt(question="Which gas do plants absorb?", choices=["Oxygen", "Carbon dioxide", "Helium"],
              labels=list("ABC"), target=1, instruction="Answer the question.")
WORDINGS = ["Answer this question about {task}.", "Pick the right option.", "Choose one of the options."]


def test_clean_instruction():
    assert clean_instruction("Solve it about {task}:\nQuestion:{content}\nAnswer:") == "Solve it about {task}:"
    assert clean_instruction("Do it. \nQuestion: {content}\nAnswer:") == "Do it."
    assert clean_instruction("Read.\nQuestion:\n{content}\nAnswer:") == "Read."
    assert clean_instruction("  No content here.  ") == "No content here."


def test_inline_index_and_topic():
    out = run(BASE, {"kind": "instruction", "instructions": WORDINGS, "index": 0, "topic": "botany"})
    assert out.instruction == "Answer this question about botany."
    assert out.question == BASE.question and out.choices == BASE.choices and out.target == BASE.target
    default = run(BASE, {"kind": "instruction", "instructions": WORDINGS, "index": 0})
    assert default.instruction == f"Answer this question about {DEFAULT_TOPIC}."


def test_topic_field_reads_the_row():
    step = {"kind": "instruction", "instructions": WORDINGS, "index": 0, "topic_field": "meta.subject"}
    out = run(BASE, step, row={"meta": {"subject": "high_school_biology"}})
    assert out.instruction == "Answer this question about high school biology."
    with pytest.raises(ValueError, match="topic_field 'meta.subject' is not in the row"):
        run(BASE, step, row={"subject": "x"})


def test_drawn_wording_is_task_scoped_and_varies_by_variant():
    step = {"kind": "instruction", "instructions": WORDINGS}
    same = {run(BASE, step, item_id=f"q{i}").instruction for i in range(8)}
    assert len(same) == 1
    drawn = {run(BASE, step, variant=f"wording_{i}").instruction for i in range(12)}
    assert drawn == {w.replace("{task}", DEFAULT_TOPIC) for w in WORDINGS}


def test_json_list_file_and_bad_index():
    out = run(BASE, {"kind": "instruction", "file": "instructions.json", "index": 1})
    assert out.instruction == "Pick the best option."
    with pytest.raises(ValueError, match="there are 3 instructions"):
        run(BASE, {"kind": "instruction", "file": "instructions.json", "index": 3})
    assert load_instructions(DATA / "instructions.json") is load_instructions(str(DATA / "instructions.json"))


def test_bad_files(tmp_path):
    (tmp_path / "bad.json").write_text(json.dumps({"task_oriented": []}))
    with pytest.raises(ValueError, match="list of strings or PromptBench"):
        load_instructions(tmp_path / "bad.json")
    with pytest.raises(ValueError, match="cannot read"):
        load_instructions(tmp_path / "absent.json")
    (tmp_path / "mixed.json").write_text(json.dumps(["ok", 3]))
    with pytest.raises(ValueError, match="list of strings"):
        load_instructions(tmp_path / "mixed.json")


@needs_promptbench
def test_promptbench_mmlu_task_oriented_first_wording():
    step = {"kind": "instruction", "file": str(PROMPTBENCH), "dataset": "mmlu", "index": 0,
            "topic_field": "subject"}
    out = run(BASE, step, row={"subject": "college_biology"})
    assert out.instruction == ("Answer the following multiple-choice question about college biology by selecting "
                               "the correct option: 'A', 'B', 'C', or 'D'.")


@needs_promptbench
@pytest.mark.parametrize("source,count", [("task_oriented", 10), ("role_oriented", 10), ("both", 20)])
def test_promptbench_wordings_are_clean(source, count):
    wordings = load_instructions(PROMPTBENCH, source, "mmlu")
    assert len(wordings) == count
    for w in wordings:
        assert w and "{content}" not in w and "Question:" not in w and "Answer:" not in w and w == w.strip()
        assert "{task}" in w
    for seed in range(5):
        out = run(BASE, {"kind": "instruction", "file": str(PROMPTBENCH), "dataset": "mmlu", "source": source,
                         "topic": "anatomy"}, seed=seed)
        assert out.instruction in {w.replace("{task}", "anatomy") for w in wordings}


@needs_promptbench
def test_promptbench_needs_a_known_dataset_and_fillable_placeholders():
    with pytest.raises(ValueError, match="needs `dataset`.*mmlu"):
        run(BASE, {"kind": "instruction", "file": str(PROMPTBENCH)})
    with pytest.raises(ValueError, match="'mmlu_pro' is not in task_oriented.*known: .*mmlu"):
        run(BASE, {"kind": "instruction", "file": str(PROMPTBENCH), "dataset": "mmlu_pro"})
    with pytest.raises(ValueError, match="placeholder"):  # translation prompts want {soruce_lang}
        run(BASE, {"kind": "instruction", "file": str(PROMPTBENCH), "dataset": "iwslt", "index": 1})
    with pytest.raises(ValueError, match="there are 10 instructions"):
        run(BASE, {"kind": "instruction", "file": str(PROMPTBENCH), "dataset": "mmlu", "index": 10})
