import pytest

from harness.scoring.parsers import parse_choice

L = ["A", "B", "C", "D"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("C", "C"),
        ("(C)", "C"),
        ("C. Jupiter", "C"),
        ("C) Jupiter", "C"),
        ("  B\n", "B"),
        ("**D**", "D"),
        ("The answer is C", "C"),
        ("The answer is (B).", "B"),
        ("Answer: D", "D"),
        ("I think the correct option is A because it is large.", "A"),
        ('{"final": "C", "explanation": "Jupiter is largest."}', "C"),
        ('```json\n{"final": "B", "explanation": "x"}\n```', "B"),
        ('Sure! {"explanation": "y", "final": "(D)"}', "D"),
        ("Jupiter is the largest planet, so B.", "B"),
        ("A", "A"),
        ("A. Paris", "A"),
    ],
)
def test_parses(text, expected):
    assert parse_choice(text, L) == expected


@pytest.mark.parametrize(
    "text",
    [None, "", "   ", "I don't know.", "It could be B or C.", "A very good question indeed, maybe.",
     '{"final": "E"}', "Paris"],
)
def test_unparseable_is_none(text):
    assert parse_choice(text, L) is None


def test_other_label_sets():
    assert parse_choice("2. Paris", ["1", "2", "3", "4"]) == "2"
    assert parse_choice("the answer is b", ["a", "b", "c", "d"]) == "b"
