"""Data parallelism in the vLLM backend (harness/backends/vllm_ray.py): shard arithmetic and ordering with
fake actors. Two real engines in Ray actors against one are tested in test_vllm.py."""

import random
import sys
import time
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

import pytest

from harness.backends.vllm_ray import core_binds, scatter, shards
from harness.core.errors import HarnessError


def test_shards_are_contiguous_near_equal_and_cover_everything():
    for n in range(0, 30):
        for parts in range(1, 6):
            bounds = shards(n, parts)
            assert [i for a, b in bounds for i in range(a, b)] == list(range(n))
            assert len(bounds) == min(parts, n)
            sizes = [b - a for a, b in bounds]
            assert not sizes or (min(sizes) >= 1 and max(sizes) - min(sizes) <= 1)


def test_core_binds_are_disjoint_and_split_per_rank():
    assert core_binds(2, 2) == ["0", "1"]
    assert core_binds(16, 2) == ["0-7", "8-15"]
    assert core_binds(7, 3) == ["0-2", "3-4", "5-6"]
    assert core_binds(8, 2, ranks=2) == ["0-1|2-3", "4-5|6-7"]
    with pytest.raises(HarnessError, match="needs 3 CPU cores; this machine has 2"):
        core_binds(2, 3)


def test_scatter_returns_item_order_whatever_order_the_shards_finish_in():
    """A fake actor per shard, each finishing after a random delay: every shard is handed to on_shard once,
    as it finishes, with its start offset; the results come back in item order."""
    items = list(range(23))
    seen, finished = [], []
    with ThreadPoolExecutor(4) as pool:
        def work(k, shard):
            time.sleep(random.Random(k).uniform(0, 0.05) + (0.1 if k == 0 else 0))  # shard 0 finishes last
            finished.append(k)
            return [x * 10 for x in shard]

        def next_done(futures):
            done = next(iter(wait(futures, return_when=FIRST_COMPLETED).done))
            return done, done.result()

        def on_shard(start, outputs):
            seen.append((start, list(outputs)))
            return [f"r{x}" for x in outputs]

        results = scatter(items, 4, lambda k, shard: pool.submit(work, k, list(shard)), next_done, on_shard)
    assert results == [f"r{x * 10}" for x in items]
    assert finished[-1] == 0 and seen[-1][0] == 0  # handed over as finished, not in shard order
    assert sorted(start for start, _ in seen) == [0, 6, 12, 18]
    assert sorted(x for _, outputs in seen for x in outputs) == [x * 10 for x in items]


def test_scatter_refuses_a_shard_with_missing_outputs():
    with pytest.raises(HarnessError, match="returned 1 outputs for 2 prompts"):
        scatter([1, 2], 1, lambda k, shard: k, lambda handles: (handles[0], [1]), lambda start, out: out)


def test_without_ray_data_parallelism_says_how_to_install_it(monkeypatch):
    from harness.backends.vllm_ray import RayEngines

    monkeypatch.setitem(sys.modules, "ray", None)  # import ray -> ImportError
    with pytest.raises(HarnessError, match=r"data_parallel_size 2 needs Ray: pip install ray"):
        RayEngines(2)
