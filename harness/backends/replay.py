"""Replay: answer requests with outputs recorded earlier, instead of running a model.

Many users already hold a model's outputs (NoMIRACL ships eleven models' answers). The replay
backend sends them through the same parsers, metrics and report as a live run. Recorded outputs
belong to an item, not to a prompt (two items may share a prompt and still have different
recorded answers), so replay answers `RecordedRequest`s, which carry the item id and variant and
are therefore never merged with another item's; `harness/pipeline/recorded.py` builds the table
(item id, variant) -> text from a task (a dataset column, or a JSONL file of item ids and outputs).
A request with no recorded output is an error that says so: nothing is skipped.
"""

from __future__ import annotations

from collections.abc import Sequence

from harness.backends.base import ModelInfo, OnDone, Request, Response
from harness.core.errors import HarnessError


class RecordedRequest(Request):
    """A request for one item's recorded output; the item and variant join the request key."""

    item: str
    variant: str


class ReplayBackend:
    def __init__(self, outputs: dict[tuple[str, str], str], *, name: str, source: str) -> None:
        self.outputs = outputs  # (item id, variant) -> recorded text
        self.info = ModelInfo(name=name, path=source, source="replay", backend="replay", dtype="recorded",
                              device="none")

    def run(self, requests: Sequence[Request], on_done: OnDone | None = None) -> list[Response]:
        responses = []
        for request in requests:
            if not isinstance(request, RecordedRequest):
                raise TypeError("replay answers RecordedRequest only (plan with by_item=True)")
            text = self.outputs.get((request.item, request.variant))
            if text is None:
                raise HarnessError(f"no recorded output for item {request.item} ({request.variant}) "
                                   f"in {self.info.path}")
            responses.append(Response(text=text, finish_reason="recorded"))
        if on_done:
            on_done(list(enumerate(responses)))
        return responses
