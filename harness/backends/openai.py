"""The OpenAI-compatible backend: `vllm serve`, or any server speaking the OpenAI API.

Async with bounded concurrency; the official `openai` client retries 408/409/429/5xx and
connection errors with exponential back-off and enforces the timeout. The API key is read from
an environment variable (default OPENAI_API_KEY; local servers need none) and is never written
to results, logs or reports: ModelInfo records the server URL without credentials, and every
error message and log line has the key and any `Bearer …` redacted (secrets.py).

Chat requests go to /chat/completions; `chat_template: none` requests go to /completions with
the same plain rendering as the local backends. Option-label log-probs (`label_logprobs`):
- exact, where the server offers it (vLLM's does): the token ids of each label's surface forms
  ("A", " A") come from the server's /tokenize, and the request names them in `logprob_token_ids`,
  so the server returns their log-probs over the whole vocabulary from the same one-token step;
- top_k, for servers that expose only the top k (`top_logprobs`): exact inside it, PARROT's floor
  outside it, flagged per response (labels.py);
- auto (default): exact when the server offers it, else top_k for the rest of the run.
A server that returns no log-probs yields none, and a `logprobs` task then stops with a clear
error (use `answer: generate`).
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Sequence
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

from pydantic import Field

from harness.backends.base import Backend, ModelInfo, OnDone, Request, Response
from harness.backends.continuation import echo_logprob, pool
from harness.backends.labels import LabelLogprobs, read_labels
from harness.backends.prompting import render_plain
from harness.backends.secrets import Redactor
from harness.core.errors import HarnessError
from harness.core.plugins import BACKENDS
from harness.core.records import Strict

TOKEN_ID = "token_id:"  # how vLLM's server names tokens with return_tokens_as_token_ids
NO_TOKENIZE = (400, 404, 405, 422, 501)  # /tokenize answered: not here, or not this way


class OpenAIOptions(Strict):
    base_url: str = Field(description="the server's URL, e.g. http://127.0.0.1:8000/v1")
    api_key_env: str = Field("OPENAI_API_KEY", description="the NAME of the variable holding the key")
    concurrency: int = Field(8, ge=1, description="requests in flight at once")
    timeout: float = Field(120.0, gt=0, description="seconds per request")
    max_retries: int = Field(6, ge=0)
    label_logprobs: Literal["auto", "exact", "top_k"] = Field(
        "auto", description="exact: the server's logprob_token_ids (vLLM); top_k: from top_logprobs, PARROT's "
                            "floor outside them; auto: exact where offered")
    top_logprobs: int = Field(20, ge=1, description="k for label_logprobs=top_k")


def public_url(url: str) -> str:
    """The URL without user:password@ (never record credentials)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = host + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


@BACKENDS.register("openai", "an OpenAI-compatible server (vllm serve, or any API): async, retries; exact option "
                             "log-probs where the server offers them")
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
        self.exact: bool | None = {"exact": True, "top_k": False}.get(opts.label_logprobs)  # None: not yet known
        self.forms: dict[str, list[int]] = {}  # label -> token ids of its surface forms (exact mode)
        self.multi: set[str] = set()  # labels of several tokens: their continuation log-probs (echo)
        self.info = ModelInfo(name=model, path=public_url(opts.base_url), source="api", backend="openai",
                              dtype="server", device="remote", label_logprobs=opts.label_logprobs)

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
            labels = sorted({c for r in requests for c in r.candidates})
            if labels and self.exact is not False:
                await self._tokenize_labels(client, labels)
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

    async def _tokenize_labels(self, client, labels: list[str]) -> None:  # type: ignore[no-untyped-def]
        """Token ids of each label's one-token surface forms, from the server's /tokenize (vLLM's server has
        one); without it, exact mode is an error and auto mode reads the top k."""
        import openai

        root = self.options.base_url.rstrip("/").removesuffix("/v1")
        for label in labels:
            if label in self.forms:
                continue
            ids = []
            for surface in (label, " " + label):
                try:
                    answer = await client.post(f"{root}/tokenize", cast_to=object, body={
                        "model": self.model, "prompt": surface, "add_special_tokens": False})
                except openai.APIStatusError as exc:
                    if exc.status_code not in NO_TOKENIZE:
                        raise
                    if self.exact:
                        raise self._fail(f"offers no /tokenize (HTTP {exc.status_code}), which exact option "
                                         "log-probs need (vLLM's server has it); use --backend-arg "
                                         "label_logprobs=top_k") from None
                    self.exact = False
                    return
                tokens = answer.get("tokens") if isinstance(answer, dict) else None
                if not isinstance(tokens, list):
                    raise self._fail("answered /tokenize without a list of tokens")
                if len(tokens) == 1 and tokens[0] not in ids:
                    ids.append(int(tokens[0]))
            if not ids:  # several tokens: read as a continuation (echo on /completions)
                self.multi.add(label)
            self.forms[label] = ids
        self.exact = True

    async def _call(self, client, request: Request) -> Response:  # type: ignore[no-untyped-def]
        if self.multi & set(request.candidates):
            return await self._call_continuation(client, request)
        s = request.sampling
        sample = request.generate and s.temperature > 0
        common: dict[str, Any] = {"model": self.model, "max_tokens": s.max_tokens if request.generate else 1,
                                  "temperature": s.temperature if sample else 0.0, "top_p": s.top_p if sample else 1.0}
        if sample:
            common["seed"] = s.seed
        if request.generate and s.stop:
            common["stop"] = list(s.stop)
        exact = bool(request.candidates) and self.exact is True
        ids = sorted({t for c in request.candidates for t in self.forms[c]}) if exact else []
        chat = request.chat_template != "none"
        if exact:
            common.update(logprobs=True if chat else 1,
                          extra_body={"logprob_token_ids": ids, "return_tokens_as_token_ids": True})
        elif request.candidates:
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
        if exact:
            by_id = {int(tok[len(TOKEN_ID):]): lp for tok, lp in table if tok.startswith(TOKEN_ID)}
            if not set(ids) <= set(by_id):
                if self.options.label_logprobs == "exact":
                    raise self._fail("ignored logprob_token_ids (vLLM's server reads them); use --backend-arg "
                                     "label_logprobs=top_k")
                self.exact = False  # auto: this server reads the top k only; ask again that way
                return await self._call(client, request)
            read = read_labels({c: self.forms[c] for c in request.candidates}, by_id)
        elif request.candidates and table:
            read = read_labels({c: [c, " " + c] for c in request.candidates}, dict(table))
        return self._response(request, out, choice, chat, read)

    async def _call_continuation(self, client, request: Request) -> Response:  # type: ignore[no-untyped-def]
        """Labels of several tokens ("(A)"): each surface form's log-prob after the prompt, from /completions with
        echo, pooled (continuation.py); chat completions return no prompt log-probs, so a chat request refuses."""
        if request.chat_template != "none":
            labels = ", ".join(sorted(self.multi))
            raise HarnessError(f"option labels of several tokens ({labels}) need prompt log-probs, "
                               "which chat completions do not return: set prompt.chat_template: none (completions "
                               "with echo) or use the hf or vllm backend")
        prompt = render_plain(request.messages)
        values = {c: [await echo_logprob(client, self.model, prompt, form) for form in (c, " " + c)]
                  for c in request.candidates}
        text = None
        if request.generate:
            text = (await self._call(client, request.model_copy(update={"candidates": ()}))).text
        return Response(text=text, candidate_logprobs=pool(values), candidates_continuation=request.candidates)

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
