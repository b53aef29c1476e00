"""Perturbation core: registry, params validation, seeded rngs, composition, and properties of every perturbation."""

from __future__ import annotations

import random
from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from harness.variants.perturbations import (
    REGISTRY,
    Params,
    Prompt,
    PromptFormat,
    apply_steps,
    is_randomized,
    parse_params,
    register,
    step_rng,
    text_perturbation,
)
from harness.variants.perturbations.surface import CasingParams
from tests.variants.perturbations.helpers import (
    BAD,
    DISTRACTORS,
    EXAMPLE_STEPS,
    EXAMPLES,
    ORTHOGRAPHIC,
    context,
    digit_tokens,
    prompts,
    run,
)

PROPERTY = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])

LONG = Prompt(
    question=" ".join(["Which of the following statements about the French Revolution is correct, and why "
                       "would a careful historian not accept the other answers without further evidence?"] * 3),
    choices=["The storming of the Bastille", "The coronation of Napoleon", "The Congress of Vienna",
             "The Edict of Nantes", "The Treaty of Versailles"],
    labels=list("ABCDE"),
    target=2,
    instruction="Answer the following multiple choice question about history. It is not a trick question.",
)


def test_every_perturbation_has_examples_and_bad_params():
    assert set(REGISTRY) == set(EXAMPLES) == set(BAD)
    for name, p in REGISTRY.items():
        assert p.name == name and p.params.model_fields["kind"].default == name
        assert p.description, name
        assert p.scope in ("item", "task")


@pytest.mark.parametrize("kind", sorted(REGISTRY))
def test_params_reject_unknown_keys(kind):
    with pytest.raises(ValidationError) as exc:
        parse_params({"kind": kind, **EXAMPLES[kind][0], "bogus": 1})
    assert exc.value.errors()[0]["loc"] == ("bogus",)


@pytest.mark.parametrize("kind,bad", [(k, b) for k, bads in BAD.items() for b in bads])
def test_params_reject_bad_values(kind, bad):
    with pytest.raises(ValidationError):
        parse_params({"kind": kind, **bad})


def test_parse_params_unknown_kind_lists_known_names():
    with pytest.raises(ValueError, match="unknown perturbation 'typo'") as exc:
        parse_params({"kind": "typo"})
    assert not isinstance(exc.value, ValidationError)
    for name in REGISTRY:
        assert name in str(exc.value)
    with pytest.raises(ValueError, match="needs a `kind`"):
        parse_params({"rate": 0.1})


def test_parse_params_returns_the_kinds_model():
    p = parse_params({"kind": "casing", "mode": "upper", "on": ["options"]})
    assert isinstance(p, CasingParams) and p.mode == "upper" and p.on == ["options"]
    assert parse_params({"kind": "keyboard_typo"}).on == ["question"]
    with pytest.raises(ValidationError):
        p.mode = "lower"  # frozen


def test_yaml_key_on_reaches_the_params_as_on(tmp_path):
    from harness.config.yamlfile import load_yaml_mapping

    f = tmp_path / "t.yaml"
    f.write_text("steps:\n  - {kind: casing, mode: upper, on: [options]}\n")
    step = load_yaml_mapping(f).data["steps"][0]  # plain PyYAML would make the key `on` the boolean True
    assert parse_params(step).on == ["options"]


def test_on_does_not_apply_to_non_text_perturbations():
    with pytest.raises(ValidationError, match="does not apply"):
        parse_params({"kind": "format", "on": ["options"]})
    parse_params({"kind": "format"})  # the default is fine


def test_prompt_validation():
    with pytest.raises(ValidationError, match="labels"):
        Prompt(question="q", choices=["a", "b"], labels=["A"], target=0)
    with pytest.raises(ValidationError, match="target"):
        Prompt(question="q", choices=["a", "b"], labels=["A", "B"], target=2)
    with pytest.raises(ValidationError, match="permutation"):
        Prompt(question="q", choices=["a", "b"], labels=["A", "B"], target=0, order=[0, 0])
    with pytest.raises(ValidationError, match="option_wrapper"):
        PromptFormat(option_wrapper="{}{}")


def test_prompt_format_defaults_and_helpers():
    fmt = PromptFormat()
    assert (fmt.descriptor("Question") + fmt.descriptor_separator + "Why?") == "Question: Why?"
    assert fmt.marker("B") + fmt.option_separator + "Paris" == "B. Paris"
    assert PromptFormat(option_wrapper="({})").marker("iv") == "(iv)"
    assert PromptFormat(descriptor_casing="upper").descriptor("Answer") == "ANSWER"
    assert PromptFormat(descriptor_casing="lower").descriptor("Answer") == "answer"
    assert PromptFormat(descriptor_casing="title").descriptor("answer") == "Answer"


def test_step_rng_scopes_and_inputs():
    def draw(*args: object) -> list[float]:
        rng = step_rng(*args)  # type: ignore[arg-type]
        return [rng.random() for _ in range(3)]

    base = draw(0, "q1", "v", 0, "item")
    assert base == draw(0, "q1", "v", 0, "item")
    for other in [(1, "q1", "v", 0, "item"), (0, "q2", "v", 0, "item"), (0, "q1", "w", 0, "item"),
                  (0, "q1", "v", 1, "item"), (0, "q1", "v", 0, "task")]:
        assert draw(*other) != base, other
    assert draw(0, "q1", "v", 0, "task") == draw(0, "q2", "v", 0, "task")
    assert draw(0, "q1", "v", 0, "task") != draw(0, "q1", "v", 1, "task")


def test_apply_steps_composes_in_order():
    upper = parse_params({"kind": "casing", "mode": "upper"})
    stress = parse_params({"kind": "stress_test", "repeat": 1})
    ctx = context()
    first = apply_steps(LONG, [upper, stress], seed=0, variant="v", ctx=ctx)
    second = apply_steps(LONG, [stress, upper], seed=0, variant="v", ctx=ctx)
    assert first.question == LONG.question.upper() + " and true is true"
    assert second.question == (LONG.question + " and true is true").upper()
    assert apply_steps(LONG, [], seed=0, variant="v", ctx=ctx) == LONG


def test_register_refuses_duplicates_and_mismatched_kind():
    with pytest.raises(ValueError, match="twice"):
        register("casing", CasingParams)(lambda prompt, p, rng, ctx: prompt)
    with pytest.raises(ValueError, match="kind"):
        register("shout", CasingParams)(lambda prompt, p, rng, ctx: prompt)
    assert "shout" not in REGISTRY


def test_text_perturbation_keeps_empty_fields_and_refuses_empty_results():
    from typing import Literal

    class EraseParams(Params):
        kind: Literal["erase_test"] = "erase_test"

    text_perturbation("erase_test", EraseParams)(lambda text, p, rng: "")
    try:
        out = run(LONG.model_copy(update={"instruction": ""}), {"kind": "erase_test", "on": ["question", "options"]})
        assert out.question == LONG.question and out.choices == LONG.choices
        out = run(LONG.model_copy(update={"instruction": ""}), {"kind": "stress_test", "on": ["instruction"]})
        assert out.instruction == ""
    finally:
        del REGISTRY["erase_test"]


def test_randomized_flags_are_truthful():
    """Steps said not to use the rng give one output whatever the seed; the others vary on a long prompt."""
    for step in EXAMPLE_STEPS:
        params = parse_params(step)
        outs = {run(LONG, step, seed=s).model_dump_json() for s in range(8)}
        if REGISTRY[params.kind].randomized_for(params):
            assert len(outs) > 1, step
        else:
            assert len(outs) == 1, step
        assert is_randomized([params]) == REGISTRY[params.kind].randomized_for(params)
    assert not REGISTRY["casing"].randomized_for(parse_params({"kind": "casing", "mode": "upper"}))
    assert REGISTRY["casing"].randomized_for(parse_params({"kind": "casing", "mode": "random"}))


def test_item_scope_varies_with_item_and_task_scope_does_not():
    typo = {"kind": "keyboard_typo", "rate": 0.2}
    assert len({run(LONG, typo, item_id=f"q{i}").question for i in range(6)}) > 1
    fmt = {"kind": "format"}
    assert len({run(LONG, fmt, item_id=f"q{i}").model_dump_json() for i in range(6)}) == 1


@pytest.mark.parametrize("step", EXAMPLE_STEPS, ids=lambda s: "-".join(f"{v}" for v in s.values())[:60])
@PROPERTY
@given(prompt=prompts(), seed=st.integers(0, 2**32))
def test_every_perturbation_properties(step, prompt, seed):
    kind = step["kind"]
    params = parse_params(step)
    out = run(prompt, step, seed=seed)
    # determinism
    assert out == run(prompt, step, seed=seed)
    # the same number of options, labels only changed by the format, the answer keeps its text
    assert len(out.choices) == len(prompt.choices)
    if kind != "format":
        assert out.labels == prompt.labels
    if kind == "option_shuffle":
        assert out.choices[out.target] == prompt.choices[prompt.target]
        assert Counter(out.choices) == Counter(prompt.choices)
    elif "options" not in params.on or kind in ("format", "instruction"):
        assert out.choices == prompt.choices and out.target == prompt.target
    else:
        assert out.target == prompt.target
    # fields outside `on` are byte-identical
    if kind in ORTHOGRAPHIC | DISTRACTORS | {"claim"}:
        for field in ("question", "instruction"):
            if field not in params.on:
                assert getattr(out, field) == getattr(prompt, field)
        assert out.format == prompt.format and out.order == prompt.order
    else:
        assert out.question == prompt.question
        if kind != "instruction":
            assert out.instruction == prompt.instruction
    # no field becomes empty
    assert bool(out.question.strip()) and all(c.strip() for c in out.choices)
    # numbers survive orthographic edits, and distractors only append
    if kind in ORTHOGRAPHIC:
        for before, after in [(prompt.question, out.question), (prompt.instruction, out.instruction),
                              *zip(prompt.choices, out.choices)]:
            assert not digit_tokens(before) - Counter(after.split()), (before, after)
    if kind in DISTRACTORS:
        assert out.question.startswith(prompt.question)
    if kind == "claim":  # a sentence before the text: the original stays a suffix
        for field in params.on:
            if field != "options":
                assert getattr(out, field).endswith(getattr(prompt, field))


def test_rng_streams_are_independent_of_global_random():
    random.seed(1)
    a = run(LONG, {"kind": "keyboard_typo"}, seed=3)
    random.seed(2)
    assert run(LONG, {"kind": "keyboard_typo"}, seed=3) == a
