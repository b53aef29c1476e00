"""Records shared by the backend contract and the results schema.

They live below both, so neither reaches into the other; `tests/results/test_schema.py` freezes
the results schema, so a change here that changes what a run writes fails a test.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

LogprobKind = Literal["exact", "partial", "floored", "continuation"]
"""How an option label's log-prob was read: exact (its own value over the whole vocabulary); partial (some
surface forms, "A" or " A", outside the backend's top k: the others pooled, a lower bound); floored (outside
the top k: PARROT's floor, min observed label log-prob - 5, not a measurement); continuation (a label of several
tokens: the sum of its tokens' log-probs given the prompt, over the whole vocabulary, pooled over "(A)" and " (A)")."""


class Strict(BaseModel):
    """A configuration block: unknown keys are errors, values are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Message(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    role: Literal["system", "user", "assistant"]
    content: str


class ModelInfo(BaseModel):
    """What was evaluated, precisely enough to reproduce it."""

    name: str
    path: str
    source: Literal["embedded", "local", "hub", "api", "replay", "fake"]
    backend: str
    dtype: str
    device: str
    revision: str | None = None
    weights_sha256: str | None = None
    chat_template_sha256: str | None = None
    label_logprobs: str | None = Field(
        None, description="how option-label log-probs are read where a backend has more than one way: exact "
                          "(every label's own log-prob), top_k (from the top-k list, PARROT's floor outside it) "
                          "or auto (exact where the server offers it); None: the backend's one way")


class Response(BaseModel):
    model_config = ConfigDict(frozen=True)

    text: str | None = None
    candidate_logprobs: dict[str, float] | None = Field(
        None, description="log of the summed probability of each candidate's surface forms as the next token")
    candidates_floored: tuple[str, ...] = Field(
        (), description="candidates outside the backend's top-k log-probs: their value is a floor, not exact")
    candidates_partial: tuple[str, ...] = Field(
        (), description="candidates with some surface forms (\"A\", \" A\") outside the top k: the value pools "
                        "only those inside it, a lower bound")
    candidates_continuation: tuple[str, ...] = Field(
        (), description="candidates of several tokens read as the sum of their tokens' log-probs given the prompt, "
                        "pooled over the leading-space variants (continuation.py)")
    prompt_tokens: int = 0
    prompt_truncated: int = Field(0, description="tokens dropped from the prompt's start to fit the context")
    output_tokens: int = 0
    finish_reason: str | None = None

    def candidate_kinds(self) -> dict[str, LogprobKind] | None:
        """How each candidate's log-prob was read: exact, partial (a lower bound), floored or continuation."""
        if self.candidate_logprobs is None:
            return None
        return {c: "floored" if c in self.candidates_floored else "partial" if c in self.candidates_partial
                else "continuation" if c in self.candidates_continuation else "exact" for c in self.candidate_logprobs}
