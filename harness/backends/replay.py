"""Replay: answer requests with outputs recorded earlier, instead of running a model.

Many users already hold a model's outputs (NoMIRACL ships eleven models' answers). The replay
backend sends them through the same parsers, metrics and report as a live run. It knows only
a table from a request's key to the recorded text; `harness/pipeline/recorded.py` builds that table from a
task (a dataset column, or a JSONL file of item ids and outputs). A request with no recorded
output is an error that says so: nothing is skipped.
"""

from __future__ import annotations

from collections.abc import Sequence

from harness.backends.base import Backend, ModelInfo, OnDone, Request, Response
from harness.core.errors import HarnessError


class ReplayBackend(Backend):
    """Made by harness/pipeline/recorded.py from a task's recorded outputs (not chosen by `--backend`)."""

    def __init__(self, outputs: dict[str, str], *, name: str, source: str) -> None:
        self.outputs = outputs
        self.info = ModelInfo(name=name, path=source, source="replay", backend="replay", dtype="recorded",
                              device="none")

    def run(self, requests: Sequence[Request], on_done: OnDone | None = None) -> list[Response]:
        responses = []
        for request in requests:
            text = self.outputs.get(request.key)
            if text is None:
                preview = " ".join(request.messages[-1].content.split())[:80]
                raise HarnessError(f"no recorded output for the prompt '{preview}…' in {self.info.path}")
            responses.append(Response(text=text, finish_reason="recorded"))
        if on_done:
            on_done(list(enumerate(responses)))
        return responses
