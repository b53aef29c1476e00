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
