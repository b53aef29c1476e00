"""Option-label log-probs from a table of token log-probs: one rule for every backend that reads a table.

A label's log-prob pools its surface forms ("A" and " A", each where it is one token) by
log-sum-exp, as PARROT pools label variants (SPEC.md §1.5 step 2). When the table is a top-k list,
a form can be missing from it: a label with some forms missing pools the rest (`partial`, a lower
bound); a label with none gets PARROT's floor (`floored`, step 3): the smallest log-prob among the
labels that were seen, minus 5, or −25 when no label was seen.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from typing import Any, NamedTuple, TypeVar

from harness.core.logprobs import logsumexp

FLOOR_MARGIN = 5.0  # nats below the smallest observed label log-prob
FLOOR_NONE_SEEN = -25.0  # when no label is in the top k

K = TypeVar("K", bound=Hashable)


def label_floor(observed: Iterable[float]) -> float:
    """PARROT's floor for a label outside the top k: min(observed label log-probs) − 5, or −25 if none."""
    seen = list(observed)
    return min(seen) - FLOOR_MARGIN if seen else FLOOR_NONE_SEEN


class LabelLogprobs(NamedTuple):
    values: dict[str, float]
    floored: tuple[str, ...]  # no surface form in the table: the value is the floor
    partial: tuple[str, ...]  # some surface forms missing: the value pools the others (a lower bound)

    def fields(self) -> dict[str, Any]:
        """As the Response fields of the same meaning."""
        return {"candidate_logprobs": self.values, "candidates_floored": self.floored,
                "candidates_partial": self.partial}


def read_labels(forms: Mapping[str, Sequence[K]], table: Mapping[K, float]) -> LabelLogprobs:
    """Each label's log-prob from `table` (token → log-prob), `forms` naming each label's surface-form tokens."""
    pooled: dict[str, float] = {}
    partial = []
    for label, keys in forms.items():
        found = [table[k] for k in keys if k in table]
        if found:
            pooled[label] = logsumexp(found)
            if len(found) < len(keys):
                partial.append(label)
    floor = label_floor(pooled.values())
    floored = tuple(label for label in forms if label not in pooled)
    return LabelLogprobs({label: pooled.get(label, floor) for label in forms}, floored, tuple(partial))
