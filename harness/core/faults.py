"""Fault injection for the crash-safety tests: die at a named point, as a power cut would.

`HARNESS_KILL_AT=POINT` (or `POINT@N`, the N-th time) makes the process SIGKILL itself when it
reaches POINT; unset, `reached` does nothing. Points: `dataset_loaded` (items validated, nothing
asked), `batch_committed` (a batch of responses is in the cache), `before_rename:FILE` (the
temporary file of FILE — samples.jsonl, results.json, index.html — is written, not yet renamed).
tests/integration/test_crash_safety.py kills a real run at each and checks what survives.
"""

from __future__ import annotations

import os
import signal
from collections import Counter

_seen: Counter[str] = Counter()


def reached(point: str) -> None:
    spec = os.environ.get("HARNESS_KILL_AT")
    if not spec:
        return
    name, _, nth = spec.partition("@")
    if name != point:
        return
    _seen[point] += 1
    if _seen[point] >= int(nth or 1):
        os.kill(os.getpid(), signal.SIGKILL)
