"""Reading a judge's output as a grade: numbers on a scale, named labels, pairwise verdicts."""

import pytest

from harness.config.judge import JudgeSpec
from harness.scoring.judge_grades import pairwise_outcome, parse_grade, parse_label, parse_scale


@pytest.mark.parametrize(("text", "grade"), [
    ("7", "7"), ("Score: 8/10", "8"), ("I give it 11, no, 9", "9"), ("2.5 out of 10", "2.5"),
    ("score 0", None), ("none", None), ("", None), (None, None), ("-3 then 4", "4"), ("v1.5 is 6", "6"),
])
def test_scale_takes_the_first_number_inside_it(text, grade):
    assert parse_scale(text, 1, 10) == grade


@pytest.mark.parametrize(("text", "grade"), [
    ("Refused.", "refused"), ("The assistant COMPLIED, it never refused", "complied"),
    ("it was refusedly odd", None), ("uncomplied", None), ("", None), (None, None),
])
def test_labels_take_the_earliest_whole_word(text, grade):
    assert parse_label(text, ["refused", "complied"]) == grade


def test_parse_grade_follows_the_spec():
    scale = JudgeSpec(template="t.j2", scale=(1, 5))
    labels = JudgeSpec(template="t.j2", labels=["good", "bad"])
    assert parse_grade("9 or 3", scale) == "3" and parse_grade("Bad answer", labels) == "bad"
    assert scale.passes("3") and not scale.passes("2")  # default threshold: the midpoint 3
    assert labels.passes("good") and not labels.passes("bad")


@pytest.mark.parametrize(("first", "second", "outcome", "consistent"), [
    ("A", "B", "win", True), ("B", "A", "loss", True), ("A", "A", "tie", False), ("B", "B", "tie", False),
    ("tie", "tie", "tie", True), ("A", "tie", "tie", False), (None, "B", None, None), ("A", None, None, None),
])
def test_pairwise_counts_a_win_only_when_both_orders_agree(first, second, outcome, consistent):
    assert pairwise_outcome(first, second) == (outcome, consistent)
