"""The backend contract: what is asked of a model and what comes back.

Every backend (transformers, vLLM, OpenAI-compatible, replay, fake) subclasses `Backend`.
A Request is pure data; its `key` is a hash of everything that determines the answer except
the model, so identical prompts are evaluated once and can be cached.
"""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict

from harness.core.records import Message, ModelInfo, Response, Strict

__all__ = ["Backend", "Message", "ModelInfo", "OnDone", "Request", "Response", "Sampling"]


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
      read from the same forward pass (the multiple-choice letters); a candidate of several tokens
      ("(A)") is read as its full continuation log-prob (continuation.py).
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


OnDone = Callable[[list[tuple[int, Response]]], None]


class Backend(ABC):
    """What every backend is: `run` plus defaults for everything else, so callers never probe.

    A backend module registers its subclass (`@BACKENDS.register("name", "one line of help")`) and
    declares its settings as the pydantic model `Options` (the fields `--backend-arg key=value`
    sets; `--dtype`, `--device`, `--batch-size` fill the fields of those names). `create` builds
    one for `--model`; a backend whose weights live on this machine overrides it to load lazily
    (registry.LazyBackend).
    """

    Options: ClassVar[type[BaseModel]] = Strict
    local: ClassVar[bool] = False  # weights (and so a tokenizer) on this machine, found by `--model`
    info: ModelInfo
    model_seconds: float = 0.0  # time inside the model's forward/generate calls (or waiting on a server)
    load_seconds: float = 0.0  # time spent loading weights
    prefix_queried: int = 0  # prompt tokens asked of the model, where the backend counts them (local ones)
    prefix_hits: int = 0  # of which served from a shared prefix's key/value cache, not computed again

    @classmethod
    def create(cls, model: str | None, options: BaseModel) -> Backend:
        """The backend for `--model MODEL` with validated options."""
        return cls(model, options)  # type: ignore[call-arg]

    @classmethod
    def configure(cls, options: BaseModel | None, overrides: dict[str, Any]) -> Any:
        """`options`, or (from Python: `HFBackend(model, dtype="float32")`) the Options built from keywords."""
        if options is not None and overrides:
            raise TypeError("pass either an Options object or keywords, not both")
        return options if options is not None else cls.Options(**overrides)

    @abstractmethod
    def run(self, requests: Sequence[Request], on_done: OnDone | None = None) -> list[Response]:
        """Answer every request, in order.

        `on_done` is called as soon as some responses are final, with (index, response) pairs,
        so callers can commit them (cache) and report progress before the whole run ends.
        """

    def count_tokens(self, requests: Sequence[Request]) -> int | None:
        """Prompt tokens of `requests` with the model's tokenizer; None without a local tokenizer."""
        return None

    def keep_prefixes(self, requests: Sequence[Request]) -> None:  # noqa: B027  (a hint: most backends ignore it)
        """A hint before a wave: the next waves' prompts extend these requests' prompts (a dialogue's first
        turns), so a backend may keep their key/value caches until the next call (the transformers backend
        does, kept_kv.py; vLLM's prefix cache needs no hint). `[]` releases what was kept."""

    @property
    def loaded(self) -> bool:
        """False while the weights of a lazily loaded backend are not loaded (every answer was cached)."""
        return True

    def close(self) -> None:  # noqa: B027  (a default, not an abstract method: most backends hold nothing)
        """Release what the backend holds (engines, worker processes, actors). Safe to call twice."""
