import numpy as np
import pytest

from harness.metrics.bootstrap import cluster_sums, mean_ci, resample_means


def test_cluster_sums():
    sums, counts = cluster_sums(np.array([1, 0, 1, 1.0]), np.array(["a", "a", "b", "b"]))
    assert sums.tolist() == [1, 2] and counts.tolist() == [2, 2]


def test_same_seed_same_interval_and_contains_mean():
    values = np.array([1, 0, 1, 1, 0, 1, 0, 1, 1, 1.0])
    a, b = mean_ci(values, seed=7), mean_ci(values, seed=7)
    assert a == b
    assert a[0] <= values.mean() <= a[1]
    spread = np.random.default_rng(0).normal(size=50)  # continuous, so seeds visibly differ
    assert mean_ci(spread, seed=7) != mean_ci(spread, seed=8)


def test_degenerate_values_give_a_point_interval():
    assert mean_ci(np.ones(20), seed=1) == (1.0, 1.0)


def test_clustering_widens_interval_for_correlated_samples():
    # 20 items, each with 5 identical variants: really 20 observations, not 100.
    item_values = np.array([1, 0] * 10, dtype=float)
    values = np.repeat(item_values, 5)
    clusters = np.repeat(np.arange(20), 5)
    lo_c, hi_c = mean_ci(values, clusters, seed=3)
    lo_i, hi_i = mean_ci(values, seed=3)
    assert (hi_c - lo_c) > 1.5 * (hi_i - lo_i)
    # and equals the interval of the 20 item-level values
    assert (lo_c, hi_c) == pytest.approx(mean_ci(item_values, seed=3), abs=0.051)


def test_replicates_shape():
    reps = resample_means(np.arange(5.0), None, np.random.default_rng(0), resamples=50)
    assert reps.shape == (50,)


@pytest.mark.parametrize("n", [7, 1301])
def test_replicates_drawn_in_blocks_equal_one_draw(monkeypatch, n):
    """Memory stays bounded for large runs, and the intervals do not move."""
    import harness.metrics.bootstrap as bootstrap

    values = np.random.default_rng(0).random(n)
    clusters = np.arange(n) // 3
    sums, counts = bootstrap.cluster_sums(values, clusters)
    idx = np.random.default_rng(9).integers(0, len(sums), size=(250, len(sums)))
    expected = sums[idx].sum(axis=1) / counts[idx].sum(axis=1)
    monkeypatch.setattr(bootstrap, "BLOCK_DRAWS", 5 * len(sums) + 1)  # blocks of 5 replicates
    got = bootstrap.resample_means(values, clusters, np.random.default_rng(9), 250)
    assert np.array_equal(got, expected)
    assert np.array_equal(np.random.default_rng(9).integers(0, n, size=(4, n), dtype=np.int32),
                          np.random.default_rng(9).integers(0, n, size=(4, n)))  # robustness keeps int32 indices


# Defect 3 (issue 15): proportions get an interval valid at 0, 1 and small n.

def test_proportion_interval_is_not_zero_width_at_the_edges():
    from harness.metrics.bootstrap import proportion_interval

    low, high, n_eff = proportion_interval(np.ones(11))  # 11/11: Wilson lower bound n / (n + z²)
    assert (low, high) == pytest.approx((11 / (11 + 1.959964 ** 2), 1.0), abs=1e-6) and n_eff == 11
    assert 0.70 < low < 0.75
    low, high, _ = proportion_interval(np.zeros(12))  # 0/12: upper bound z² / (n + z²)
    assert (low, high) == pytest.approx((0.0, 1.959964 ** 2 / (12 + 1.959964 ** 2)), abs=1e-6)
    low, high, _ = proportion_interval(np.ones(1))  # a single item: wide, never a point
    assert high == 1.0 and low == pytest.approx(1 / (1 + 1.959964 ** 2), abs=1e-6)


def test_proportion_interval_matches_the_wilson_formula_at_small_n():
    from harness.metrics.bootstrap import proportion_interval

    # 3 of 10, 95%: Wilson (1927) [0.1078, 0.6032] (Brown, Cai & DasGupta 2001, table values)
    low, high, _ = proportion_interval(np.array([1, 1, 1, 0, 0, 0, 0, 0, 0, 0.0]))
    assert (low, high) == pytest.approx((0.1078, 0.6032), abs=1e-4)
    low99, high99, _ = proportion_interval(np.array([1, 1, 1, 0, 0, 0, 0, 0, 0, 0.0]), level=0.99)
    assert low99 < low and high99 > high


def test_proportion_interval_counts_correlated_variants_once():
    from harness.metrics.bootstrap import effective_n, proportion_interval

    items = np.array([1, 0] * 10, dtype=float)
    values = np.repeat(items, 5)  # 5 identical variants per item: 20 observations, not 100
    clusters = np.repeat(np.arange(20), 5)
    assert effective_n(values, clusters) == pytest.approx(20 * 19 / 20, rel=0.06)
    assert proportion_interval(values, clusters)[:2] == pytest.approx(proportion_interval(items)[:2], abs=0.02)
    independent = np.random.default_rng(0).integers(0, 2, 500).astype(float)
    assert effective_n(independent, np.arange(500) // 5) == pytest.approx(500, rel=0.25)
    assert effective_n(np.ones(100), np.arange(100) // 4) == 25  # at p = 1: one observation per item


def test_proportion_interval_of_nothing_is_undefined():
    from harness.metrics.bootstrap import proportion_interval

    assert proportion_interval(np.array([])) == (None, None, 0.0)
