"""Worst-group estimates over seeds and paired differences with CIs clustered by fact (harness/train/compare.py)."""

from __future__ import annotations

import numpy as np
import pytest

from harness.train.compare import compare_worst_group

# Six pairs: group A has facts f1 (2 phrasings) and f2; group B has f1 and f3 (2 phrasings).
GROUPS = ["A", "A", "A", "B", "B", "B"]
CLUSTERS = ["f1", "f1", "f2", "f1", "f3", "f3"]


def test_point_estimates_and_per_seed_worst_groups_by_hand() -> None:
    a = np.array([[1.0, 1.0, 1.0, 0.0, 0.0, 0.0],    # seed 0: A 1.0, B 0.0 -> worst A 1.0
                  [0.0, 0.0, 0.0, 2.0, 2.0, 2.0]])   # seed 1: B 2.0 -> worst B 2.0
    b = a - 0.5
    out = compare_worst_group({"a": a, "b": b}, GROUPS, CLUSTERS, metric="loss", higher_is_better=False,
                              contrasts=[("a", "b")], resamples=500)
    est = {e.variant: e for e in out.estimates}
    assert est["a"].per_seed == [1.0, 2.0] and est["a"].value == 1.5 and est["a"].worst_groups == ["A", "B"]
    (d,) = out.differences
    assert d.diff == pytest.approx(-0.5) and d.per_seed == pytest.approx([-0.5, -0.5])
    # b is a shifted by a constant: every replicate's difference is exactly -0.5
    assert d.ci_facts == pytest.approx((-0.5, -0.5)) and d.ci_facts_seeds == pytest.approx((-0.5, -0.5))
    assert d.p_value == pytest.approx(2 / 501)
    assert (out.pairs, out.clusters, out.seeds) == (6, 3, 2) and "3 clusters" in out.method
    accuracy = compare_worst_group({"a": a}, GROUPS, CLUSTERS, metric="acc", higher_is_better=True, contrasts=[])
    assert accuracy.estimates[0].per_seed == [0.0, 0.0]  # the lowest group


def test_identical_variants_differ_by_zero_with_p_one() -> None:
    rng = np.random.default_rng(0)
    a = rng.uniform(size=(3, 6))
    out = compare_worst_group({"a": a, "b": a.copy()}, GROUPS, CLUSTERS, metric="loss", higher_is_better=False,
                              contrasts=[("a", "b")], resamples=200)
    d = out.differences[0]
    assert d.diff == 0.0 and d.ci_facts_seeds == (0.0, 0.0) and d.p_value == 1.0


def test_resampling_facts_widens_the_interval_of_duplicated_pairs() -> None:
    rng = np.random.default_rng(1)
    groups = ["A"] * 20 + ["B"] * 20
    base = rng.normal(size=(1, 40))
    noisy = base + rng.normal(scale=0.5, size=(1, 40))
    # the same 10 facts per group, each phrased twice: treating pairs as independent understates the spread
    facts = [f"{g}{i // 2}" for g, i in zip(groups, list(range(20)) * 2)]
    singles = [f"p{i}" for i in range(40)]
    values = {"a": np.repeat(base[:, ::2], 2, axis=1), "b": np.repeat(noisy[:, ::2], 2, axis=1)}
    kwargs = {"metric": "loss", "higher_is_better": False, "contrasts": [("a", "b")], "resamples": 2000}
    by_fact = compare_worst_group(values, groups, facts, **kwargs).differences[0].ci_facts
    by_pair = compare_worst_group(values, groups, singles, **kwargs).differences[0].ci_facts
    assert by_fact[1] - by_fact[0] > 1.2 * (by_pair[1] - by_pair[0])


def test_bad_shapes_and_unknown_variants_are_refused() -> None:
    with pytest.raises(ValueError, match="seeds × 6"):
        compare_worst_group({"a": np.zeros((2, 5))}, GROUPS, CLUSTERS, metric="m", higher_is_better=False,
                            contrasts=[])
    with pytest.raises(ValueError, match="unknown variant"):
        compare_worst_group({"a": np.zeros((2, 6))}, GROUPS, CLUSTERS, metric="m", higher_is_better=False,
                            contrasts=[("a", "c")])
