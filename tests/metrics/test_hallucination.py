"""Hallucination metrics: hand-computed fixtures and a golden test on real recorded outputs (SPEC.md §2.4-2.5)."""

from __future__ import annotations

import pytest

from harness.metrics.hallucination import nomiracl_metrics, open_answer_metrics
from harness.scoring.nomiracl import load_recorded, model_names, parse
from tests.conftest import SHARED_DATA, needs_shared_data

SETTINGS = {"seed": 0, "resamples": 300, "level": 0.95, "min_group_size": 1}

# non-relevant: 3 yes, 2 idk, 1 invalid; relevant: 3 yes, 1 idk, 1 invalid
LABELS = ["answer", "answer", "no_answer", "invalid", "no_answer", "answer",
          "answer", "no_answer", "answer", "answer", "invalid"]
RELEVANT = [False] * 6 + [True] * 5
ITEMS = [f"q{i}" for i in range(11)]
LANG = ["a", "a", "a", "b", "b", "b", "a", "a", "b", "b", "b"]


def by_name(metrics):
    return {m.name: m for m in metrics}


def test_hand_computed_values() -> None:
    metrics, (hall_bd, err_bd) = nomiracl_metrics(LABELS, RELEVANT, ITEMS, {"lang": LANG}, **SETTINGS)
    m = by_name(metrics)
    expected = {
        "hallucination_rate": (3 / 5, 5),  # invalid left out of the denominator
        "error_rate": (1 / 4, 4),
        "invalid_rate_non_relevant": (1 / 6, 6),
        "invalid_rate_relevant": (1 / 5, 5),
        "accuracy_non_relevant": (2 / 6, 6),
        "accuracy_relevant": (3 / 5, 5),
        "hallucination_rate_official": (3 / 6, 6),  # invalid kept in the denominator
        "error_rate_official": (1 / 5, 5),
    }
    assert set(m) == set(expected)
    for name, (value, n) in expected.items():
        assert m[name].value == pytest.approx(value), name
        assert m[name].n == n, name
        assert m[name].formula
    for name in ("hallucination_rate_official", "error_rate_official"):
        assert m[name].ci_method is None and m[name].ci_low is None
    hall = m["hallucination_rate"]
    assert hall.ci_method and "Wilson" in hall.ci_method  # a rate: Wilson interval (issue 15 defect 3)
    assert hall.ci_low <= hall.value <= hall.ci_high
    # groups over the valid responses of each subset: lang a = q0, q1 (yes), q2 (idk); b = q4 (idk), q5 (yes)
    assert hall_bd.metric == "hallucination_rate" and hall_bd.higher_is_better is False
    assert {g.group: (g.value, g.n) for g in hall_bd.groups} == {"a": (pytest.approx(2 / 3), 3),
                                                                 "b": (pytest.approx(1 / 2), 2)}
    assert (hall_bd.worst, hall_bd.best) == ("a", "b")  # worst = highest rate
    # relevant valid: a = q6 (yes), q7 (idk); b = q8, q9 (yes)
    assert err_bd.metric == "error_rate"
    assert {g.group: g.value for g in err_bd.groups} == {"a": pytest.approx(1 / 2), "b": pytest.approx(0.0)}
    assert err_bd.worst == "a"


def test_official_quirk_zero_when_correct_label_absent() -> None:
    # non-relevant: never "I don't know" -> the official hallucination rate is 0 (llama-2-70b-chat case)
    # relevant: never "Yes, answer is present" -> the official error rate is 0
    labels = ["answer", "answer", "answer", "invalid", "no_answer", "no_answer", "invalid"]
    relevant = [False] * 4 + [True] * 3
    m = by_name(nomiracl_metrics(labels, relevant, [str(i) for i in range(7)], **SETTINGS)[0])
    assert m["hallucination_rate"].value == pytest.approx(1.0) and m["hallucination_rate"].n == 3
    assert m["hallucination_rate_official"].value == 0.0 and m["hallucination_rate_official"].n == 4
    assert m["error_rate"].value == pytest.approx(1.0) and m["error_rate"].n == 2
    assert m["error_rate_official"].value == 0.0 and m["error_rate_official"].n == 3
    # with one correct label present the official figure is the plain share over all responses
    labels[3] = "no_answer"
    m = by_name(nomiracl_metrics(labels, relevant, [str(i) for i in range(7)], **SETTINGS)[0])
    assert m["hallucination_rate_official"].value == pytest.approx(3 / 4)


def test_empty_subset_and_all_invalid() -> None:
    m = by_name(nomiracl_metrics(["invalid", "answer"], [False, True], ["1", "2"], **SETTINGS)[0])
    assert m["hallucination_rate"].value is None and m["hallucination_rate"].n == 0
    assert m["invalid_rate_non_relevant"].value == pytest.approx(1.0)
    assert m["hallucination_rate_official"].value == 0.0  # no "I don't know" at all
    m = by_name(nomiracl_metrics(["answer"], [True], ["1"], **SETTINGS)[0])
    assert m["hallucination_rate_official"].value is None and m["hallucination_rate_official"].n == 0
    assert m["invalid_rate_non_relevant"].value is None


def test_same_seed_same_ci() -> None:
    labels, relevant = LABELS * 5, RELEVANT * 5
    items = [f"q{i}" for i in range(len(labels))]
    first = by_name(nomiracl_metrics(labels, relevant, items, **SETTINGS)[0])
    again = by_name(nomiracl_metrics(labels, relevant, items, **SETTINGS)[0])
    other = by_name(nomiracl_metrics(labels, relevant, items, **{**SETTINGS, "seed": 1})[0])
    for name in ("hallucination_rate", "error_rate", "invalid_rate_relevant"):
        assert (first[name].ci_low, first[name].ci_high) == (again[name].ci_low, again[name].ci_high)
    # every rate has a Wilson interval (issue 15 defect 3): no resampling, so the seed cannot move it
    assert all((first[k].ci_low, first[k].ci_high) == (other[k].ci_low, other[k].ci_high) for k in first)


def test_ci_resamples_whole_items() -> None:
    # every query answered twice, identically: clustering on the query id gives a wider interval
    # than treating the 2 x 20 responses as independent
    labels = (["answer"] * 10 + ["no_answer"] * 10) * 2
    relevant = [False] * 40
    clustered = by_name(nomiracl_metrics(labels, relevant, [f"q{i % 20}" for i in range(40)], **SETTINGS)[0])
    independent = by_name(nomiracl_metrics(labels, relevant, [f"q{i}" for i in range(40)], **SETTINGS)[0])
    width = {k: m["hallucination_rate"].ci_high - m["hallucination_rate"].ci_low
             for k, m in (("clustered", clustered), ("independent", independent))}
    assert clustered["hallucination_rate"].value == pytest.approx(0.5)
    assert width["clustered"] > width["independent"]


def test_bad_inputs() -> None:
    with pytest.raises(ValueError, match="unknown NoMIRACL labels"):
        nomiracl_metrics(["Yes, answer is present"], [True], ["1"], **SETTINGS)
    with pytest.raises(ValueError, match="relevant"):
        nomiracl_metrics(["answer"], [True, False], ["1"], **SETTINGS)
    with pytest.raises(ValueError, match="groups"):
        nomiracl_metrics(["answer"], [True], ["1"], {"lang": []}, **SETTINGS)
    with pytest.raises(ValueError, match="unknown open-answer classes"):
        open_answer_metrics(["right"], ["1"], **SETTINGS)


def test_open_answer_metrics_hand_computed() -> None:
    classes = ["correct", "correct", "incorrect", "not_attempted", "incorrect", "correct", "not_attempted"]
    groups = {"topic": ["x", "x", "x", "x", "y", "y", "y"]}
    metrics, (hall_bd, corr_bd) = open_answer_metrics(classes, [str(i) for i in range(7)], groups, **SETTINGS)
    m = by_name(metrics)
    assert m["correct_rate"].value == pytest.approx(3 / 7) and m["correct_rate"].n == 7
    assert m["incorrect_rate"].value == pytest.approx(2 / 7)
    assert m["not_attempted_rate"].value == pytest.approx(2 / 7)
    assert m["hallucination_rate"].value == pytest.approx(2 / 5) and m["hallucination_rate"].n == 5
    assert m["correct_given_attempted"].value == pytest.approx(3 / 5) and m["correct_given_attempted"].n == 5
    assert all(mm.ci_low <= mm.value <= mm.ci_high for mm in metrics)
    # attempted: x = correct, correct, incorrect; y = incorrect, correct
    assert {g.group: g.value for g in hall_bd.groups} == {"x": pytest.approx(1 / 3), "y": pytest.approx(1 / 2)}
    assert hall_bd.worst == "y" and hall_bd.higher_is_better is False
    assert {g.group: g.value for g in corr_bd.groups} == {"x": pytest.approx(2 / 4), "y": pytest.approx(1 / 3)}
    assert corr_bd.worst == "y" and corr_bd.higher_is_better is True


def test_open_answer_nothing_attempted() -> None:
    m = by_name(open_answer_metrics(["not_attempted"] * 3, ["1", "2", "3"], **SETTINGS)[0])
    assert m["not_attempted_rate"].value == pytest.approx(1.0)
    assert m["hallucination_rate"].value is None and m["hallucination_rate"].n == 0


# English test split, counts of ("answer", "no_answer", "invalid") per subset under parse().
COUNTS = {
    #                             non-relevant     relevant
    "gpt-4-azure":                ((106, 143, 1), (237, 12, 1)),
    "gpt-3.5-turbo-azure":        ((111, 137, 2), (228, 20, 2)),
    "Mistral-7B-Instruct-v0.2":   ((16, 225, 9), (88, 147, 15)),
    "Mixtral-8x7B-Instruct-v0.1": ((68, 181, 1), (197, 52, 1)),
    "llama-2-70b-chat":           ((224, 0, 26), (213, 0, 37)),
    "llama-2-13b-chat":           ((87, 2, 161), (116, 1, 133)),
    "llama-2-7b-chat":            ((155, 7, 88), (170, 3, 77)),
    "flan-t5-xxl":                ((203, 41, 6), (247, 3, 0)),
    "Orca-2-7b":                  ((179, 30, 41), (204, 5, 41)),
    "Orca-2-13b":                 ((219, 17, 14), (245, 1, 4)),
    "aya-101":                    ((168, 39, 43), (129, 10, 111)),
}

# The official scorer's English rows in percent (`examples/hallucination_evaluation.py`, which
# writes round(x * 100, 4)): non-relevant (Accuracy, Hallucination, Invalid), relevant
# (Accuracy, Error, Invalid). The two Accuracy columns are the published README "en" rows
# (project-miracl/nomiracl README at commit 479a663): GPT-4 57.20 / 94.80, ..., flan-t5-xxl 16.40 / 98.8.
OFFICIAL_EN = {
    "gpt-4-azure":                ((57.2, 42.4, 0.4), (94.8, 4.8, 0.4)),
    "gpt-3.5-turbo-azure":        ((54.8, 44.4, 0.8), (91.2, 8.0, 0.8)),
    "Mistral-7B-Instruct-v0.2":   ((90.0, 6.4, 3.6), (35.2, 58.8, 6.0)),
    "Mixtral-8x7B-Instruct-v0.1": ((72.4, 27.2, 0.4), (78.8, 20.8, 0.4)),
    "llama-2-70b-chat":           ((0.0, 0.0, 10.4), (85.2, 0.0, 14.8)),
    "llama-2-13b-chat":           ((0.8, 34.8, 64.4), (46.4, 0.4, 53.2)),
    "llama-2-7b-chat":            ((2.8, 62.0, 35.2), (68.0, 1.2, 30.8)),
    "flan-t5-xxl":                ((16.4, 81.2, 2.4), (98.8, 1.2, 0.0)),
    "Orca-2-7b":                  ((12.0, 71.6, 16.4), (81.6, 2.0, 16.4)),
    "Orca-2-13b":                 ((6.8, 87.6, 5.6), (98.0, 0.4, 1.6)),
    "aya-101":                    ((15.6, 67.2, 17.2), (51.6, 4.0, 44.4)),
}


@pytest.fixture(scope="module")
def recorded():
    return load_recorded(SHARED_DATA / "nomiracl_en")


def _model_metrics(rows, model):
    labels = [parse(r.outputs[model]) for r in rows]
    metrics, _ = nomiracl_metrics(labels, [r.subset == "relevant" for r in rows], [r.query_id for r in rows],
                                  **{**SETTINGS, "resamples": 200})
    return labels, by_name(metrics)


@needs_shared_data("nomiracl_en")
@pytest.mark.parametrize("model", sorted(OFFICIAL_EN))
def test_golden_official_scores_on_recorded_outputs(recorded, model: str) -> None:
    assert set(model_names(recorded)) == set(OFFICIAL_EN)
    labels, m = _model_metrics(recorded, model)
    for subset, relevant in (("non_relevant", False), ("relevant", True)):
        sub = [lab for lab, r in zip(labels, recorded) if (r.subset == "relevant") == relevant]
        got = (sub.count("answer"), sub.count("no_answer"), sub.count("invalid"))
        assert got == COUNTS[model][relevant], subset

    def pct(name: str) -> float:
        return round(m[name].value * 100, 4)

    (nr_acc, hall, nr_inv), (r_acc, err, r_inv) = OFFICIAL_EN[model]
    assert (pct("accuracy_non_relevant"), pct("hallucination_rate_official"), pct("invalid_rate_non_relevant")) \
        == (nr_acc, hall, nr_inv)
    assert (pct("accuracy_relevant"), pct("error_rate_official"), pct("invalid_rate_relevant")) == (r_acc, err, r_inv)

    # the README-formula rates, invalid responses excluded
    (yes_nr, idk_nr, _), (yes_r, idk_r, _) = COUNTS[model]
    assert m["hallucination_rate"].value == pytest.approx(yes_nr / (yes_nr + idk_nr))
    assert m["hallucination_rate"].n == yes_nr + idk_nr
    assert m["error_rate"].value == pytest.approx(idk_r / (yes_r + idk_r))
    assert m["error_rate"].n == yes_r + idk_r


@needs_shared_data("nomiracl_en")
def test_golden_headline_cases(recorded) -> None:
    _, gpt4 = _model_metrics(recorded, "gpt-4-azure")
    assert gpt4["hallucination_rate_official"].value == pytest.approx(0.424)
    assert gpt4["error_rate_official"].value == pytest.approx(0.048)
    _, llama = _model_metrics(recorded, "llama-2-70b-chat")
    # published 0.0 although 224 of 250 non-relevant answers are "Yes, answer is present"
    assert llama["hallucination_rate_official"].value == 0.0
    assert llama["hallucination_rate"].value == pytest.approx(1.0) and llama["hallucination_rate"].n == 224


def test_a_zero_rate_gets_an_interval_of_positive_width() -> None:
    """Issue 15 defect 3: no hallucination on 8 valid answers is not a certain 0."""
    labels = ["no_answer"] * 8 + ["answer"] * 4
    metrics, _ = nomiracl_metrics(labels, [False] * 8 + [True] * 4, [f"q{i}" for i in range(12)], **SETTINGS)
    hall = by_name(metrics)["hallucination_rate"]
    assert hall.value == 0.0 and hall.ci_high == pytest.approx(1.959964 ** 2 / (8 + 1.959964 ** 2), abs=1e-6)
    assert "Wilson" in hall.ci_method
