"""The free-text letter parser on realistic replies (issue 15, defect 2): what a model writes, and the
letter it means, or None where the reply does not say one letter (those must stay unreadable)."""

import pytest

from harness.scoring.parsers import parse_choice

L = ["A", "B", "C", "D"]

# (reply, expected letter or None) with labels A-D
REPLIES = [
    # a bare letter, first
    ("C", "C"),
    ("(C)", "C"),
    ("C. Jupiter", "C"),
    ("C) Jupiter", "C"),
    ("  B\n", "B"),
    ("**D**", "D"),
    ("B.", "B"),
    ("A", "A"),
    ("A. Paris", "A"),
    ("A: 42", "A"),
    ("D - the Nile", "D"),
    ("b", "B"),
    ("a) Paris", "A"),
    ("(d) 1912", "D"),
    ("A, because the mitochondria produce ATP.", "A"),
    ("C, not A.", "C"),
    # explicit phrases, in any case
    ("The answer is C", "C"),
    ("The answer is (B).", "B"),
    ("Answer: D", "D"),
    ("Answer: (a)", "A"),
    ("the answer is b", "B"),
    ("Answer - C", "C"),
    ("The answer is: **B**", "B"),
    ("**Answer: B**", "B"),
    ("Final answer: A", "A"),
    ("My answer is C.", "C"),
    ("The correct answer is D) Mount Everest.", "D"),
    ("The best answer is A, since Paris is the capital of France.", "A"),
    ("The right choice here is (C) 1945.", "C"),
    ("Correct option: D", "D"),
    ("Option B is correct.", "B"),
    ("Option D: 1969.", "D"),
    ("I think the correct option is A because it is large.", "A"),
    ("I choose option c.", "C"),
    ("I would choose B.", "B"),
    ("I'd go with D.", "D"),
    ("I'll go with A.", "A"),
    ("I'm going with option A.", "A"),
    ("I think I would choose D.", "D"),
    ("I believe the answer is D.", "D"),
    ("I think it's C.", "C"),
    ("I'm fairly sure it's B.", "B"),
    ("It's C: the Pacific is the largest ocean.", "C"),
    ("B is the correct answer.", "B"),
    ("B is correct because water boils at 100 °C.", "B"),
    ("A is right.", "A"),
    ("Let me think. The capital of Australia is Canberra, so the answer is B.", "B"),
    ("As a chemist I know the answer is C.", "C"),
    ("Between A and B, B is more likely.", "B"),
    # a choice beside a rejected letter
    ("I'd pick A over B", "A"),
    ("I'd say B rather than C.", "B"),
    ("B over C, because copper conducts better.", "B"),
    ("Not A, it's D.", "D"),
    ("Definitely B, not D.", "B"),
    ("The answer is B, not C.", "B"),
    ("I'd rule out A and B; the answer is C.", "C"),
    # the article "A" and the pronoun "I" are words, not letters
    ("A good choice would be C.", "C"),
    ("A tricky one! I'd pick B.", "B"),
    ("A common mistake is B, but the answer is D.", "D"),
    ("Hmm, C I think.", "C"),
    ("I think A.", "A"),
    ("Jupiter is the largest planet, so B.", "B"),
    ("Vitamin C prevents scurvy, so A.", "A"),
    # JSON `final`, PARROT's format, in any case
    ('{"final": "C", "explanation": "Jupiter is largest."}', "C"),
    ('```json\n{"final": "B", "explanation": "x"}\n```', "B"),
    ('Sure! {"explanation": "y", "final": "(D)"}', "D"),
    ('{"final": "b"}', "B"),
    ('{"Final": "c"}', "C"),
    ('{"FINAL": "D", "explanation": "Everest is the highest."}', "D"),
    ('{"final": "C) Jupiter"}', "C"),
    # no single letter: unreadable
    (None, None),
    ("", None),
    ("   ", None),
    ("I don't know.", None),
    ("I am not sure.", None),
    ("Paris", None),
    ("None of the options is correct.", None),
    ("A very good question indeed, maybe.", None),
    ("It could be B or C.", None),
    ("Either A or D.", None),
    ("A or B, I'm not sure.", None),
    ("Both A and C could be right", None),
    ("A and C are both correct.", None),
    ("It is definitely not B.", None),
    ("The answer is E.", None),
    ('{"final": "E"}', None),
    ("The answer is A. Actually, wait: the answer is C.", None),
    ("It is a tough one.", None),
]


@pytest.mark.parametrize(("text", "expected"), REPLIES)
def test_realistic_replies(text, expected):
    assert parse_choice(text, L) == expected


def test_the_table_is_large_and_holds_ambiguous_replies():
    assert len(REPLIES) >= 60
    assert sum(expected is None for _, expected in REPLIES) >= 15


# Ten options: "I" is a label, and also the pronoun.
TEN = list("ABCDEFGHIJ")


@pytest.mark.parametrize(("text", "expected"), [
    ("I", "I"),
    ("The answer is I.", "I"),
    ("I think the answer is J.", "J"),
    ("I'd say I.", "I"),
    ("I, for one, pick F.", "F"),
    ("I is correct.", "I"),
    ("I think F or G.", None),
    ("I believe it's H.", "H"),
])
def test_the_pronoun_i_and_the_label_i(text, expected):
    assert parse_choice(text, TEN) == expected


def test_other_label_sets():
    assert parse_choice("2. Paris", ["1", "2", "3", "4"]) == "2"
    assert parse_choice("The answer is 3", ["1", "2", "3", "4"]) == "3"
    lower = ["a", "b", "c", "d"]
    assert parse_choice("the answer is b", lower) == "b"
    assert parse_choice("B", lower) == "b"
    assert parse_choice("It is a tough one, but c.", lower) == "c"
    mixed = ["a", "A", "b", "B"]  # labels that differ only in case: read in their own case only
    assert parse_choice("The answer is A", mixed) == "A"
    assert parse_choice("The answer is b", mixed) == "b"
