"""Option shuffle: the gold text follows the target, labels stay, `order` maps back to the item's options."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from harness.variants.perturbations import Prompt
from tests.variants.perturbations.helpers import prompts, run

PROPERTY = settings(max_examples=50, deadline=None)


def abcd(target: int = 1) -> Prompt:
    return Prompt(question="Pick.", choices=["w", "x", "y", "z"], labels=list("ABCD"), target=target)


@PROPERTY
@given(prompt=prompts(), seed=st.integers(0, 2**32))
def test_random_shuffle_moves_something_and_keeps_the_answer(prompt, seed):
    out = run(prompt, {"kind": "option_shuffle"}, seed=seed)
    assert out.order is not None
    assert out.order != list(range(len(prompt.choices)))  # never the identity for n > 1
    assert [prompt.choices[i] for i in out.order] == out.choices
    assert out.choices[out.target] == prompt.choices[prompt.target]
    assert out.order[out.target] == prompt.target
    assert out.labels == prompt.labels and out.question == prompt.question


def test_reverse_and_rotate():
    rev = run(abcd(1), {"kind": "option_shuffle", "mode": "reverse"})
    assert rev.choices == ["z", "y", "x", "w"] and rev.target == 2 and rev.order == [3, 2, 1, 0]
    rot = run(abcd(1), {"kind": "option_shuffle", "mode": "rotate"})
    assert rot.choices == ["z", "w", "x", "y"] and rot.target == 2
    rot2 = run(abcd(3), {"kind": "option_shuffle", "mode": "rotate", "shift": -1})
    assert rot2.choices == ["x", "y", "z", "w"] and rot2.target == 2
    every = {tuple(run(abcd(), {"kind": "option_shuffle", "mode": "rotate", "shift": k}).choices) for k in range(4)}
    assert len(every) == 4  # CircularEval: all rotations


def test_shuffles_compose_through_order():
    from harness.variants.perturbations import apply_steps, parse_params
    from tests.variants.perturbations.helpers import context

    steps = [parse_params({"kind": "option_shuffle"}), parse_params({"kind": "option_shuffle", "mode": "reverse"})]
    base = Prompt(question="Pick.", choices=list("pqrstu"), labels=list("ABCDEF"), target=4)
    out = apply_steps(base, steps, seed=5, variant="v", ctx=context())
    assert [base.choices[i] for i in out.order] == out.choices and out.choices[out.target] == "t"


def test_random_shuffle_depends_on_item_and_two_options_always_swap():
    outs = {tuple(run(abcd(), {"kind": "option_shuffle"}, item_id=f"q{i}").choices) for i in range(12)}
    assert len(outs) > 3
    two = Prompt(question="Yes or no?", choices=["yes", "no"], labels=["A", "B"], target=0)
    for seed in range(10):
        out = run(two, {"kind": "option_shuffle"}, seed=seed)
        assert out.choices == ["no", "yes"] and out.target == 1


def test_single_option_is_left_alone():
    one = Prompt(question="Only?", choices=["it"], labels=["A"], target=0)
    assert run(one, {"kind": "option_shuffle"}).choices == ["it"]
