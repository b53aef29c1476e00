"""One rule for option-label log-probs read from a table: pooled surface forms, PARROT's floor outside the top k."""

import math

import pytest

from harness.backends.labels import label_floor, read_labels


def test_floor_is_min_observed_label_minus_5_or_minus_25():
    assert label_floor([-0.5, -3.25, -1.0]) == -8.25
    assert label_floor([]) == -25.0


def test_read_labels_pools_forms_and_floors_unseen_labels():
    forms = {"A": ["A", " A"], "B": ["B", " B"], "C": ["C", " C"], "D": ["D", " D"]}
    top = {" A": -0.1, "A": -3.0, " B": -2.0, "Z": -9.0}  # B's "B" and all of C, D are outside the top k
    read = read_labels(forms, top)
    assert read.values["A"] == pytest.approx(math.log(math.exp(-0.1) + math.exp(-3.0)))
    assert read.values["B"] == -2.0
    # the floor is 5 below the smallest *label* log-prob seen (B's -2.0), not below the top k's last token (Z)
    assert read.values["C"] == read.values["D"] == -7.0
    assert read.floored == ("C", "D") and read.partial == ("B",)
    assert read.fields()["candidates_floored"] == ("C", "D")


def test_no_label_seen_gets_minus_25_and_exact_tables_flag_nothing():
    assert read_labels({"A": [1], "B": [2]}, {7: -0.01}).values == {"A": -25.0, "B": -25.0}
    exact = read_labels({"A": [1, 2], "B": [3]}, {1: -1.0, 2: -2.0, 3: -30.0})
    assert exact.floored == () and exact.partial == () and exact.values["B"] == -30.0
