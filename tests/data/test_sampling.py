"""Row samples: sizes, Hamilton allocation over strata, seeded draws."""

import pytest

from harness.config.sampling import Sampling, make_sampling, parse_limit
from harness.core.errors import HarnessError
from harness.data.sampling import allocate, choose


def test_parse_limit():
    assert parse_limit("50") == 50 and parse_limit("0.1") == 0.1 and parse_limit("3.0") == 3
    for bad in ("0", "1.5", "-2", "x", "1e30"):
        with pytest.raises(HarnessError, match="--limit"):
            parse_limit(bad)


def test_sizes_round_up_and_stay_within_the_rows():
    assert Sampling(fraction=0.1).size(144) == 15 and Sampling(fraction=0.1).size(140) == 14
    assert Sampling(fraction=0.01).size(5) == 1 and Sampling(n=500).size(12) == 12
    assert make_sampling(None, "random", 1) is None
    with pytest.raises(HarnessError, match="unknown sample"):
        make_sampling(3, "all", 1)


def test_allocate_is_proportional_with_largest_remainders():
    assert allocate({"a": 50, "b": 30, "c": 20}, 10) == {"a": 5, "b": 3, "c": 2}
    assert allocate({"a": 2, "b": 2, "c": 2}, 4) == {"a": 2, "b": 1, "c": 1}  # tie: by name
    assert allocate({"big": 97, "small": 3}, 10) == {"big": 10, "small": 0}
    assert sum(allocate({str(i): i + 1 for i in range(9)}, 17).values()) == 17


def test_choose():
    strata = ["x"] * 6 + ["y"] * 3
    assert choose(Sampling(n=4), strata) == {0, 1, 2, 3}
    drawn = choose(Sampling(method="random", n=4, seed=3), strata)
    assert len(drawn) == 4 and drawn == choose(Sampling(method="random", n=4, seed=3), strata)
    assert any(choose(Sampling(method="random", n=4, seed=s), strata) != drawn for s in range(4, 8))
    kept = choose(Sampling(method="stratified", n=3, seed=1), strata)
    assert sorted(strata[i] for i in kept) == ["x", "x", "y"]
