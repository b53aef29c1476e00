"""A deterministic fake backend: answers chosen by rule, no model, for tests and dry pipelines (`--backend fake`).

For each request the fake picks an answer: the `table` entry for the request (keyed by the
request's key, or by a text the prompt contains; the first key that matches), else by `answer`:
`first` (the first option label), `random` (a label drawn from the request's key and `seed`, so
the same prompt always gets the same label), or a literal label or text. A request with option
labels gets log-probs that give the chosen label probability `p_chosen` and share the rest equally;
with `top_k`, only the k most probable labels are "seen" and the rest get PARROT's floor, flagged
as a top-k backend flags them. Generated text is `reply` with `{label}` replaced by the answer.

The gold answers of a task, for a test: `{r.key: v.target_label for v, r in zip(variants, plan.requests)}`
as `table` (harness/pipeline/plan.py), or `{question text: gold label}`. From the command line:
`--backend fake -B answer=random -B seed=3`, or `-B table_file=answers.json` (a JSON object).
"""

from __future__ import annotations

import hashlib
import json
import math
import random
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import Field, model_validator

from harness.backends.base import Backend, OnDone, Request, Response
from harness.backends.labels import read_labels
from harness.core.plugins import BACKENDS
from harness.core.records import ModelInfo, Strict


class FakeOptions(Strict):
    answer: str = Field("first", description="first | random | a label or text, when the table has no entry")
    seed: int = Field(0, description="for answer=random: the label is drawn from (seed, request key)")
    table: dict[str, str] = Field(default_factory=dict, description="request key, or text in the prompt, -> answer")
    table_file: Path | None = Field(None, description="a JSON object read into `table`")
    p_chosen: float = Field(0.7, gt=0, lt=1, description="probability of the chosen label")
    top_k: int | None = Field(None, ge=1, description="only the k most probable labels are seen; the rest floored")
    reply: str = Field("{label}", description="generated text; {label} is the answer")

    @model_validator(mode="after")
    def _read_table(self) -> FakeOptions:
        if self.table_file is None:
            return self
        try:
            table = json.loads(self.table_file.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ValueError(f"cannot read {self.table_file}: {exc}") from None
        if not isinstance(table, dict) or not all(isinstance(v, str) for v in table.values()):
            raise ValueError(f"{self.table_file} must hold a JSON object of strings")
        object.__setattr__(self, "table", {**table, **self.table})
        return self


@BACKENDS.register("fake", "answers by rule (a label, a seeded random label, a table), no model: for tests")
class FakeBackend(Backend):
    Options = FakeOptions

    def __init__(self, model: str | None = None, options: FakeOptions | None = None, **overrides: Any) -> None:
        self.options = self.configure(options, overrides)
        settings = hashlib.sha256(self.options.model_dump_json().encode()).hexdigest()  # in the cache key
        self.info = ModelInfo(name=model or "fake", path="fake", source="fake", backend="fake", dtype="none",
                              device="none", revision=settings)

    def run(self, requests: Sequence[Request], on_done: OnDone | None = None) -> list[Response]:
        responses = [self.answer(r) for r in requests]
        if on_done and responses:
            on_done(list(enumerate(responses)))
        return responses

    def choose(self, request: Request) -> str | None:
        table = self.options.table
        if request.key in table:
            return table[request.key]
        text = "\n".join(m.content for m in request.messages)
        hit = next((k for k in table if k in text), None)
        if hit is not None:
            return table[hit]
        mode = self.options.answer
        if mode == "first":
            return request.candidates[0] if request.candidates else None
        if mode == "random":
            if not request.candidates:
                return None
            return random.Random(f"{self.options.seed}:{request.key}").choice(request.candidates)
        return mode

    def answer(self, request: Request) -> Response:
        chosen = self.choose(request)
        read = None
        if request.candidates:
            read = read_labels({c: [c] for c in request.candidates}, self.label_logprobs(request.candidates, chosen))
        text = self.options.reply.format(label=chosen or "") if request.generate else None
        return Response(text=text, output_tokens=len(text.split()) if text else 0,
                        finish_reason="stop" if request.generate else None, **(read.fields() if read else {}))

    def label_logprobs(self, labels: Sequence[str], chosen: str | None) -> dict[str, float]:
        """The labels the fake "sees": p_chosen on the chosen one, the rest shared; with top_k, only the k best."""
        if chosen is None or chosen not in labels:
            probs = dict.fromkeys(labels, 1 / len(labels))
        else:
            rest = (1 - self.options.p_chosen) / max(1, len(labels) - 1)
            probs = {c: self.options.p_chosen if c == chosen else rest for c in labels}
        ranked = sorted(labels, key=lambda c: -probs[c])  # stable: ties keep the label order
        seen = ranked[: self.options.top_k] if self.options.top_k else ranked
        return {c: math.log(probs[c]) for c in seen}

