"""Prompts as rendered for requests: the default format, a changed format, the instruction."""

from harness.config.task import load_task
from harness.data.items import load_items
from harness.pipeline.plan import build_request
from harness.variants.perturbations import PromptFormat
from harness.variants.variant import original
from tests.conftest import ROOT


def user_text(task, variant):
    return build_request(task, variant, seed=0).messages[-1].content


def expected_default(item, instruction, pressure=""):
    """The prompt layout the harness has always sent (and cached): kept byte for byte."""
    lines = [f"Question: {item.question}"] + [f"{lab}. {text}" for lab, text in zip(item.labels, item.choices)]
    return "\n".join(lines + ([pressure] if pressure else []) + [instruction, "Answer:"])


def test_default_format_renders_the_layout_of_earlier_releases():
    task = load_task(ROOT / "tasks" / "general_knowledge.yaml")
    for item in load_items(task):
        assert user_text(task, original(item)) == expected_default(item, task.spec.prompt.instruction)
    v = original(item).model_copy(update={"pressure": "A professor says C."})
    assert user_text(task, v) == expected_default(item, task.spec.prompt.instruction, "A professor says C.")


def test_a_format_changes_only_the_layout():
    task = load_task(ROOT / "tasks" / "general_knowledge.yaml")
    item = load_items(task)[0]
    fmt = PromptFormat(descriptor_separator=":: ", field_joiner=" || ", descriptor_casing="upper",
                       option_wrapper="[{}]", option_separator="\t")
    v = original(item).model_copy(update={"format": fmt, "labels": ["i", "ii", "iii", "iv"],
                                          "instruction": "Pick one."})
    options = " || ".join(f"[{lab}]\t{text}" for lab, text in zip(["i", "ii", "iii", "iv"], item.choices))
    assert user_text(task, v) == f"QUESTION:: {item.question} || {options} || Pick one. || ANSWER::"
