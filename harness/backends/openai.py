"""The OpenAI-compatible backend: `vllm serve`, or any server speaking the OpenAI API.

Async with bounded concurrency; the official `openai` client retries 408/409/429/5xx and
connection errors with exponential back-off and enforces the timeout. The API key is read from
an environment variable (default OPENAI_API_KEY; local servers need none) and is never written
to results, logs or reports: ModelInfo records the server URL without credentials.

Chat requests go to /chat/completions; `chat_template: none` requests go to /completions with
the same plain rendering as the local backends. Option-label log-probs come from the first
generated token's `top_logprobs` (as in the vLLM backend: exact inside the top k, PARROT's floor
outside, listed in `candidates_floored`). A label's surface forms ("B", " B") are pooled only as
far as they appear in the top k: on plain prompts the space-less form can rank below it, and
the pooled value then misses its mass by a few hundredths (tested). A server that returns no
log-probs yields none, and a `logprobs` task then stops with a clear error (use `answer: generate`).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Sequence
from urllib.parse import urlsplit, urlunsplit

from harness.backends.base import ModelInfo, OnDone, Request, Response
from harness.backends.prompting import logsumexp, render_plain
from harness.core.errors import HarnessError

FLOOR_MARGIN = 5.0


def public_url(url: str) -> str:
    """The URL without user:password@ (never record credentials)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = host + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


class OpenAIBackend:
    name = "openai"

    def __init__(self, base_url: str, model: str, *, api_key_env: str = "OPENAI_API_KEY", concurrency: int = 8,
                 timeout: float = 120.0, max_retries: int = 6, top_logprobs: int = 20) -> None:
        try:
            import openai  # noqa: F401
        except ImportError:
            raise HarnessError("the openai backend needs the openai package: pip install openai") from None
        if not base_url:
            raise HarnessError("the openai backend needs --base-url (e.g. http://127.0.0.1:8000/v1)")
        self._client_args = {"api_key": os.environ.get(api_key_env) or "EMPTY", "base_url": base_url,
                             "timeout": timeout, "max_retries": max_retries}
        self.model = model
        self.concurrency = concurrency
        self.top_logprobs = top_logprobs
        self.info = ModelInfo(name=model, path=public_url(base_url), source="api", backend=self.name,
                              dtype="server", device="remote")
        self.model_seconds = 0.0

    def run(self, requests: Sequence[Request], on_done: OnDone | None = None) -> list[Response]:
        if any(r.truncate != "none" for r in requests):
            raise HarnessError("prompt.truncate: left needs the model's tokenizer; the openai backend sends text "
                               "(use the hf or vllm backend, or shorten the prompts)")
        return asyncio.run(self._run_all(list(requests), on_done))

    async def _run_all(self, requests: list[Request], on_done: OnDone | None) -> list[Response]:
        import openai

        client = openai.AsyncOpenAI(**self._client_args)
        gate = asyncio.Semaphore(self.concurrency)
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
            raise HarnessError(f"cannot reach the server at {self.info.path} (after retries)") from None
        except openai.APIStatusError as exc:
            raise HarnessError(f"the server at {self.info.path} answered HTTP {exc.status_code}: "
                               f"{' '.join(str(exc.message).split())[:200]}") from None
        finally:
            await client.close()
        return [r for r in results if r is not None]

    async def _call(self, client, request: Request) -> Response:  # type: ignore[no-untyped-def]
        s = request.sampling
        sample = request.generate and s.temperature > 0
        common = {"model": self.model, "max_tokens": s.max_tokens if request.generate else 1,
                  "temperature": s.temperature if sample else 0.0, "top_p": s.top_p if sample else 1.0}
        if sample:
            common["seed"] = s.seed
        if request.generate and s.stop:
            common["stop"] = list(s.stop)
        want = bool(request.candidates)
        if request.chat_template == "none":
            if want:
                common["logprobs"] = self.top_logprobs
            out = await client.completions.create(prompt=render_plain(request.messages), **common)
            choice = out.choices[0]
            text = choice.text
            lp = choice.logprobs
            top = list(lp.top_logprobs[0].items()) if lp and lp.top_logprobs else []
        else:
            if want:
                common.update(logprobs=True, top_logprobs=self.top_logprobs)
            out = await client.chat.completions.create(
                messages=[m.model_dump() for m in request.messages], **common)
            choice = out.choices[0]
            text = choice.message.content or ""
            content = choice.logprobs.content if choice.logprobs else None
            top = [(t.token, t.logprob) for t in content[0].top_logprobs] if content else []
        candidates, floored = self._candidates(request, top)
        usage = out.usage
        return Response(text=text if request.generate else None, candidate_logprobs=candidates,
                        candidates_floored=floored, prompt_tokens=usage.prompt_tokens if usage else 0,
                        output_tokens=usage.completion_tokens if usage and request.generate else 0,
                        finish_reason=choice.finish_reason if request.generate else None)

    @staticmethod
    def _candidates(request: Request, top: list[tuple[str, float]]):  # type: ignore[no-untyped-def]
        if not request.candidates or not top:
            return None, ()
        floor = min(lp for _, lp in top) - FLOOR_MARGIN
        values, floored = {}, []
        for c in request.candidates:
            found = [lp for tok, lp in top if tok in (c, " " + c)]
            if not found:
                floored.append(c)
            values[c] = logsumexp(found) if found else floor
        return values, tuple(floored)
