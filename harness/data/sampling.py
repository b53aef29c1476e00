"""The rows a `Sampling` keeps (harness/config/sampling.py), as row indices; the kept rows stay in dataset order.

- first: the first `size` rows;
- random: `size` rows drawn without replacement by random.Random(seed);
- stratified: per stratum (the value of the task's first group column), a share of `size` proportional to the
  stratum's rows (floors, then the largest remainders; ties by stratum name), each drawn by
  random.Random(f"{seed}/{stratum}"), so a stratum's draw does not depend on the others.
"""

from __future__ import annotations

import random
from collections import defaultdict

from harness.config.sampling import Sampling


def allocate(sizes: dict[str, int], total: int) -> dict[str, int]:
    """`total` split over strata in proportion to `sizes` (Hamilton's largest remainder method)."""
    rows = sum(sizes.values())
    exact = {k: total * n / rows for k, n in sizes.items()}
    share = {k: int(v) for k, v in exact.items()}
    left = total - sum(share.values())
    for k in sorted(exact, key=lambda k: (-(exact[k] - share[k]), k))[:left]:
        share[k] += 1
    return share


def choose(sampling: Sampling, strata: list[str]) -> set[int]:
    """The kept row indices of rows 0..len(strata)-1; `strata[i]`: row i's stratum (used by `stratified`)."""
    size = sampling.size(len(strata))
    if sampling.method == "first":
        return set(range(size))
    if sampling.method == "random":
        return set(random.Random(sampling.seed).sample(range(len(strata)), size))
    by_stratum: dict[str, list[int]] = defaultdict(list)
    for i, s in enumerate(strata):
        by_stratum[s].append(i)
    kept: set[int] = set()
    for s, n in allocate({k: len(v) for k, v in by_stratum.items()}, size).items():
        kept.update(random.Random(f"{sampling.seed}/{s}").sample(by_stratum[s], n))
    return kept
