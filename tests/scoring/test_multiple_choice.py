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


def test_logprob_ties_go_to_first_label():
    lp = {k: -1.0 for k in "ABCD"}
    assert score_multiple_choice(original(ITEM), Response(candidate_logprobs=lp), "logprobs").predicted == "A"


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
