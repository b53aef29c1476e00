import math

import pytest

from harness.backends.base import Response
from harness.data.items import Item
from harness.scoring.multiple_choice import score_multiple_choice
from harness.variants.variant import original

ITEM = Item(id="1", question="q", choices=["w", "x", "y", "z"], labels=list("ABCD"), target=2, groups={}, row={})


def test_logprobs_argmax_and_gold_prob():
    lp = {"A": math.log(0.1), "B": math.log(0.2), "C": math.log(0.6), "D": math.log(0.1)}
    s = score_multiple_choice(original(ITEM), Response(candidate_logprobs=lp), "logprobs")
    assert s.predicted == "C" and s.correct and not s.invalid
    assert s.gold_prob == pytest.approx(0.6)


def test_an_exact_tie_at_the_top_answers_nothing_instead_of_the_first_label():
    """Issue 15 defect 10: in bf16, exact ties went to the earliest label, and so decided "follow"
    whenever the asserted option came first. A tie is now no answer: it cannot favour any option."""
    lp = {"A": -1.0, "B": -3.0, "C": -1.0, "D": -2.0}
    s = score_multiple_choice(original(ITEM), Response(candidate_logprobs=lp), "logprobs")
    assert s.predicted is None and s.invalid and not s.correct and s.tied == ("A", "C")
    assert s.gold_prob == pytest.approx(0.3995, abs=1e-4)  # C, tied with A: its probability stays known
    lp["C"] = -0.5
    s = score_multiple_choice(original(ITEM), Response(candidate_logprobs=lp), "logprobs")
    assert s.predicted == "C" and s.tied == ()


def test_generate_invalid_counts_as_wrong():
    s = score_multiple_choice(original(ITEM), Response(text="no idea"), "generate")
    assert s.invalid and not s.correct and s.predicted is None
    s = score_multiple_choice(original(ITEM), Response(text="The answer is C"), "generate")
    assert s.correct


@pytest.mark.parametrize("lp", [
    {"A": math.nan, "B": -1.0, "C": -2.0, "D": -3.0},  # NaN anywhere: the options cannot be ranked
    {"A": -2.0, "B": -1.0, "C": math.nan, "D": -3.0},
    {k: -math.inf for k in "ABCD"},  # no option has any probability
])
def test_unusable_logprobs_are_an_invalid_answer_not_a(lp):
    """Issue 15 defect 4: a NaN or all -inf option log-prob silently predicted "A"."""
    s = score_multiple_choice(original(ITEM), Response(candidate_logprobs=lp), "logprobs")
    assert s.predicted is None and s.invalid and not s.correct and s.gold_prob is None


def test_minus_infinity_for_some_options_still_ranks():
    lp = {"A": -math.inf, "B": -math.inf, "C": -0.1, "D": -math.inf}
    s = score_multiple_choice(original(ITEM), Response(candidate_logprobs=lp), "logprobs")
    assert s.predicted == "C" and s.gold_prob == pytest.approx(1.0)
