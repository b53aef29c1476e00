"""The OpenAI-compatible backend: `vllm serve`, or any server speaking the OpenAI API.

Async with bounded concurrency; the official `openai` client retries 408/409/429/5xx and
connection errors with exponential back-off and enforces the timeout. The API key is read from
an environment variable (default OPENAI_API_KEY; local servers need none) and is never written
to results, logs or reports: ModelInfo records the server URL without credentials, and every
error message and log line has the key and any `Bearer …` redacted (secrets.py).

Chat requests go to /chat/completions; `chat_template: none` requests go to /completions with
the same plain rendering as the local backends. Option-label log-probs come from the first
generated token's `top_logprobs`: exact inside the top k, PARROT's floor outside it, flagged per
response (labels.py); a label whose surface forms ("B", " B") are only partly in the top k pools
those that are (a lower bound, flagged `partial`). A server that returns no log-probs yields
none, and a `logprobs` task then stops with a clear error (use `answer: generate`).
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from pydantic import Field

from harness.backends.base import Backend, ModelInfo, OnDone, Request, Response
from harness.backends.labels import LabelLogprobs, read_labels
from harness.backends.prompting import render_plain
from harness.backends.secrets import Redactor
from harness.core.errors import HarnessError
from harness.core.plugins import BACKENDS
from harness.core.records import Strict


class OpenAIOptions(Strict):
    base_url: str = Field(description="the server's URL, e.g. http://127.0.0.1:8000/v1")
    api_key_env: str = Field("OPENAI_API_KEY", description="the NAME of the variable holding the key")
    concurrency: int = Field(8, ge=1, description="requests in flight at once")
    timeout: float = Field(120.0, gt=0, description="seconds per request")
    max_retries: int = Field(6, ge=0)
    top_logprobs: int = Field(20, ge=1, description="k: option log-probs are read from the top k")


def public_url(url: str) -> str:
    """The URL without user:password@ (never record credentials)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = host + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


@BACKENDS.register("openai", "an OpenAI-compatible server (vllm serve, or any API): async, bounded concurrency, "
                             "retries")
class OpenAIBackend(Backend):
    Options = OpenAIOptions

    def __init__(self, model: str | None, options: OpenAIOptions | None = None, **overrides: Any) -> None:
        try:
            import openai  # noqa: F401
        except ImportError:
            raise HarnessError("the openai backend needs the openai package: pip install openai") from None
        self.options = opts = self.configure(options, overrides)
        if not model:
            raise HarnessError("the openai backend needs --model: the model name the server serves")
        key = os.environ.get(opts.api_key_env) or "EMPTY"
        self.redactor = Redactor(key)
        self._client_args = {"api_key": key, "base_url": opts.base_url, "timeout": opts.timeout,
                             "max_retries": opts.max_retries}
        self.model = model
        self.info = ModelInfo(name=model, path=public_url(opts.base_url), source="api", backend="openai",
                              dtype="server", device="remote")

    def close(self) -> None:
        self.redactor.close()

    def run(self, requests: Sequence[Request], on_done: OnDone | None = None) -> list[Response]:
        if any(r.truncate != "none" for r in requests):
            raise HarnessError("prompt.truncate: left needs the model's tokenizer; the openai backend sends text "
                               "(use the hf or vllm backend, or shorten the prompts)")
        return asyncio.run(self._run_all(list(requests), on_done))

    def _fail(self, message: str) -> HarnessError:
        return HarnessError(self.redactor(f"the server at {self.info.path} {message}"))

    async def _run_all(self, requests: list[Request], on_done: OnDone | None) -> list[Response]:
        import openai

        client = openai.AsyncOpenAI(**self._client_args)
        gate = asyncio.Semaphore(self.options.concurrency)
        results: list[Response | None] = [None] * len(requests)
        loop = asyncio.get_running_loop()

        async def one(i: int, request: Request) -> None:
            async with gate:
                start = loop.time()
                results[i] = await self._call(client, request)
                self.model_seconds += loop.time() - start
            if on_done:
                on_done([(i, results[i])])

        try:
            await asyncio.gather(*(one(i, r) for i, r in enumerate(requests)))
        except openai.APIConnectionError:
            raise self._fail("cannot be reached (after retries)") from None
        except openai.APIStatusError as exc:
            raise self._fail(f"answered HTTP {exc.status_code}: {' '.join(str(exc.message).split())[:200]}") from None
        except (json.JSONDecodeError, openai.APIResponseValidationError):
            raise self._fail("answered with a body that is not the JSON of the OpenAI API") from None
        finally:
            await client.close()
        return [r for r in results if r is not None]

    async def _call(self, client, request: Request) -> Response:  # type: ignore[no-untyped-def]
        s = request.sampling
        sample = request.generate and s.temperature > 0
        common: dict[str, Any] = {"model": self.model, "max_tokens": s.max_tokens if request.generate else 1,
                                  "temperature": s.temperature if sample else 0.0, "top_p": s.top_p if sample else 1.0}
        if sample:
            common["seed"] = s.seed
        if request.generate and s.stop:
            common["stop"] = list(s.stop)
        chat = request.chat_template != "none"
        if request.candidates:
            common.update({"logprobs": True, "top_logprobs": self.options.top_logprobs} if chat
                          else {"logprobs": self.options.top_logprobs})
        if chat:
            out = await client.chat.completions.create(messages=[m.model_dump() for m in request.messages], **common)
        else:
            out = await client.completions.create(prompt=render_plain(request.messages), **common)
        if isinstance(out, str) or not getattr(out, "choices", None):  # a body that is not a completion
            raise self._fail("answered without choices" if not isinstance(out, str) else
                             "answered with a body that is not the JSON of the OpenAI API")
        choice = out.choices[0]
        table = first_step_logprobs(choice, chat)
        read = None
        if request.candidates and table:
            read = read_labels({c: [c, " " + c] for c in request.candidates}, dict(table))
        return self._response(request, out, choice, chat, read)

    @staticmethod
    def _response(request: Request, out, choice, chat: bool, read: LabelLogprobs | None) -> Response:  # type: ignore[no-untyped-def]
        usage = out.usage
        text = (choice.message.content or "") if chat else choice.text
        return Response(text=text if request.generate else None, **(read.fields() if read else {}),
                        prompt_tokens=usage.prompt_tokens if usage else 0,
                        output_tokens=usage.completion_tokens if usage and request.generate else 0,
                        finish_reason=choice.finish_reason if request.generate else None)


def first_step_logprobs(choice, chat: bool) -> list[tuple[str, float]]:  # type: ignore[no-untyped-def]
    """(token, log-prob) pairs the server returned for the first generated position."""
    lp = choice.logprobs
    if chat:
        content = lp.content if lp else None
        return [(t.token, t.logprob) for t in content[0].top_logprobs] if content else []
    return list(lp.top_logprobs[0].items()) if lp and lp.top_logprobs else []
