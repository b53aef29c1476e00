"""The backend contract: what is asked of a model and what comes back.

Every backend (transformers, vLLM, OpenAI-compatible, replay) implements `Backend.run`.
A Request is pure data; its `key` is a hash of everything that determines the answer except
the model, so identical prompts are evaluated once and can be cached.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

from harness.core.records import Message, ModelInfo


class Sampling(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    max_tokens: int = 32
    temperature: float = 0.0
    top_p: float = 1.0
    stop: tuple[str, ...] = ()
    seed: int = 0


class Request(BaseModel):
    """One model call.

    - `generate`: produce text with `sampling`.
    - `candidates`: also return log p(candidate | prompt) for each candidate as the next token,
      read from the same forward pass (the multiple-choice letters).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    messages: tuple[Message, ...]
    chat_template: Literal["auto", "none"] = "auto"
    generate: bool = True
    candidates: tuple[str, ...] = ()
    sampling: Sampling = Sampling()
    truncate: Literal["none", "left"] = "none"  # see PromptSpec.truncate

    @property
    def key(self) -> str:
        # `truncate` joins the key only when set, so the keys (and caches) of every other request stay as they were.
        exclude = {"truncate"} if self.truncate == "none" else None
        return hashlib.sha256(self.model_dump_json(exclude=exclude).encode()).hexdigest()


class Response(BaseModel):
    model_config = ConfigDict(frozen=True)

    text: str | None = None
    candidate_logprobs: dict[str, float] | None = Field(
        None, description="log of the summed probability of each candidate's surface forms as the next token")
    candidates_floored: tuple[str, ...] = Field(
        (), description="candidates outside the backend's top-k log-probs: their value is a floor, not exact")
    prompt_tokens: int = 0
    prompt_truncated: int = Field(0, description="tokens dropped from the prompt's start to fit the context")
    output_tokens: int = 0
    finish_reason: str | None = None


OnDone = Callable[[list[tuple[int, Response]]], None]


class Backend(Protocol):
    info: ModelInfo

    def run(self, requests: Sequence[Request], on_done: OnDone | None = None) -> list[Response]:
        """Answer every request, in order.

        `on_done` is called as soon as some responses are final, with (index, response) pairs,
        so callers can commit them (cache) and report progress before the whole run ends.
        """
        ...
