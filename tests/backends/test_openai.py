"""The OpenAI-compatible backend against a small local HTTP server: retries, concurrency, errors, secrets,
and how option log-probs are read (exact through /tokenize + logprob_token_ids, else the top k)."""

from __future__ import annotations

import json
import logging
import math
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from harness.backends.base import Message, Request
from harness.backends.openai import OpenAIBackend, public_url
from harness.core.errors import HarnessError

TOP = [("B", -0.2), (" A", -2.0), ("A", -2.5)]  # what the server's top k holds
VOCAB = {"A": 32, " A": 330, "B": 33, " B": 331, "C": 34, " C": 332}
EXACT = {32: -2.5, 330: -2.0, 33: -0.25, 331: -3.0, 34: -11.0, 332: -12.0}  # every label form, full vocabulary


def completion(top: list[tuple[str, float]]) -> dict:
    return {
        "id": "x", "object": "chat.completion", "created": 0, "model": "m",
        "choices": [{"index": 0, "finish_reason": "length",
                     "message": {"role": "assistant", "content": top[0][0]},
                     "logprobs": {"content": [{"token": top[0][0], "logprob": top[0][1], "bytes": None,
                                               "top_logprobs": [{"token": t, "logprob": v, "bytes": None}
                                                                for t, v in top]}]}}],
        "usage": {"prompt_tokens": 11, "completion_tokens": 1, "total_tokens": 12},
    }


class FakeServer:
    """Answers chat completions (and, with `vllm=True`, /tokenize and logprob_token_ids as vLLM's server does);
    can fail the first N calls with a status or answer a fixed body; counts concurrency."""

    def __init__(self, fail_first: int = 0, status: int = 429, delay: float = 0.0, vllm: bool = False,
                 body: bytes | None = None, content_type: str = "application/json", token_ids: bool = True) -> None:
        self.calls, self.in_flight, self.max_in_flight, self.auth, self.paths = 0, 0, 0, [], []
        self.requests: list[dict] = []
        self.lock = threading.Lock()
        outer = self

        def answer(path: str, request: dict) -> tuple[int, bytes]:
            if path == "/tokenize":
                return (200, json.dumps({"tokens": [VOCAB[request["prompt"]]]}).encode()) if vllm else \
                    (404, b'{"detail": "Not Found"}')
            ids = request.get("logprob_token_ids")
            if vllm and ids and token_ids:
                return 200, json.dumps(completion([(f"token_id:{t}", EXACT[t]) for t in ids])).encode()
            return 200, json.dumps(completion(TOP)).encode()

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output clean
                pass

            def do_POST(self):  # noqa: N802
                request = json.loads(self.rfile.read(int(self.headers["content-length"])))
                with outer.lock:
                    outer.calls += 1
                    n = outer.calls
                    outer.in_flight += 1
                    outer.max_in_flight = max(outer.max_in_flight, outer.in_flight)
                    outer.auth.append(self.headers.get("authorization"))
                    outer.paths.append(self.path)
                    outer.requests.append(request)
                time.sleep(delay)
                if n <= fail_first:
                    code, data = status, json.dumps({"error": {  # a careless server echoes the header
                        "message": f"try later (authorization: {self.headers.get('authorization')})"}}).encode()
                elif body is not None:
                    code, data = 200, body
                else:
                    code, data = answer(self.path, request)
                with outer.lock:
                    outer.in_flight -= 1
                self.send_response(code)
                self.send_header("content-type", content_type)
                self.send_header("retry-after-ms", "10")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()


@pytest.fixture
def server(request):
    s = FakeServer(**getattr(request, "param", {}))
    yield s
    s.close()


def mc_request(i: int = 0) -> Request:
    return Request(messages=(Message(role="user", content=f"q{i}"),), generate=False, candidates=("A", "B", "C"))


def backend(server: FakeServer, **options) -> OpenAIBackend:
    return OpenAIBackend("m", base_url=server.url, **options)


@pytest.mark.parametrize("server", [{"fail_first": 2, "status": 429}], indirect=True)
def test_retries_429_then_reads_the_top_k_with_floors(server, monkeypatch):
    monkeypatch.setenv("MY_KEY", "sk-test-secret")
    ours = backend(server, api_key_env="MY_KEY", max_retries=3)
    (r,) = ours.run([mc_request()])
    assert server.paths[0] == "/tokenize"  # auto: asked for exact reads first; the server has no /tokenize
    assert server.calls == 3 + 1 and ours.exact is False
    assert r.candidate_logprobs["B"] == pytest.approx(-0.2)
    assert r.candidate_logprobs["A"] == pytest.approx(-2.0 + math.log1p(math.exp(-0.5)))
    # C is outside the top k: floor = smallest label log-prob seen (B's -0.2 and A's pooled -1.53) - 5
    assert r.candidates_floored == ("C",) and r.candidate_logprobs["C"] == pytest.approx(r.candidate_logprobs["A"] - 5)
    assert r.candidates_partial == ("B",)  # " B" is outside the top k
    assert server.auth[-1] == "Bearer sk-test-secret"
    assert "sk-test-secret" not in ours.info.model_dump_json()


@pytest.mark.parametrize("server", [{"vllm": True}], indirect=True)
def test_exact_label_logprobs_where_the_server_offers_them(server):
    ours = backend(server)
    responses = ours.run([mc_request(0), mc_request(1)])
    assert ours.exact is True and ours.forms == {"A": [32, 330], "B": [33, 331], "C": [34, 332]}
    assert server.paths.count("/tokenize") == 6  # each surface form once per run, not per request
    chat = [r for p, r in zip(server.paths, server.requests) if p == "/v1/chat/completions"]
    assert chat[0]["logprob_token_ids"] == [32, 33, 34, 330, 331, 332] and chat[0]["return_tokens_as_token_ids"]
    for r in responses:
        assert r.candidates_floored == () and r.candidates_partial == ()
        assert r.candidate_logprobs["C"] == pytest.approx(math.log(math.exp(-11.0) + math.exp(-12.0)))
        assert r.candidate_logprobs["B"] == pytest.approx(math.log(math.exp(-0.25) + math.exp(-3.0)))


@pytest.mark.parametrize("server", [{"vllm": True, "token_ids": False}], indirect=True)
def test_auto_reads_the_top_k_when_the_server_ignores_token_ids(server):
    ours = backend(server)
    (r,) = ours.run([mc_request()])
    assert ours.exact is False and r.candidates_floored == ("C",)  # asked again, the top-k way
    assert "top_logprobs" in server.requests[-1] and "logprob_token_ids" not in server.requests[-1]
    with pytest.raises(HarnessError, match="ignored logprob_token_ids"):
        backend(server, label_logprobs="exact").run([mc_request()])


def test_exact_mode_on_a_server_without_it_says_so(server):
    with pytest.raises(HarnessError, match="offers no /tokenize .* label_logprobs=top_k"):
        backend(server, label_logprobs="exact").run([mc_request()])


@pytest.mark.parametrize("server", [{"vllm": True}], indirect=True)
def test_top_k_mode_never_asks_for_exact_reads(server):
    (r,) = backend(server, label_logprobs="top_k").run([mc_request()])
    assert "/tokenize" not in server.paths and r.candidates_floored == ("C",)


@pytest.mark.parametrize("server", [{"fail_first": 99, "status": 500}], indirect=True)
def test_gives_up_on_persistent_5xx_with_one_line_error(server):
    with pytest.raises(HarnessError, match="HTTP 500"):
        backend(server, max_retries=1, label_logprobs="top_k").run([mc_request()])
    assert server.calls == 2  # the first try and one retry


@pytest.mark.parametrize("server", [{"delay": 0.15}], indirect=True)
def test_concurrency_is_bounded(server):
    done = []
    responses = backend(server, concurrency=2).run(
        [mc_request(i) for i in range(6)], on_done=lambda pairs: done.extend(i for i, _ in pairs))
    assert len(responses) == 6 and sorted(done) == list(range(6))
    assert server.max_in_flight == 2


def test_unreachable_server():
    with pytest.raises(HarnessError, match="cannot be reached"):
        OpenAIBackend("m", base_url="http://127.0.0.1:9/v1", max_retries=0, timeout=2).run([mc_request()])


def test_credentials_never_recorded():
    assert public_url("https://user:pw@api.example.test:8443/v1?key=abc") == "https://api.example.test:8443/v1"
    ours = OpenAIBackend("m", base_url="http://u:p@127.0.0.1:1/v1")
    assert "u:p" not in ours.info.model_dump_json()


@pytest.mark.parametrize("server", [{"body": json.dumps({"id": "x", "object": "chat.completion", "created": 0,
                                                         "model": "m", "choices": []}).encode()}], indirect=True)
def test_empty_choices_is_one_line_error(server):
    with pytest.raises(HarnessError, match="answered without choices"):
        backend(server, label_logprobs="top_k").run([mc_request()])


@pytest.mark.parametrize("server", [{"body": b"<html>502 Bad Gateway</html>", "content_type": "text/html"},
                                    {"body": b"{not json", "content_type": "application/json"}], indirect=True)
def test_a_body_that_is_not_json_is_one_line_error(server):
    with pytest.raises(HarnessError, match="answered with a body that is not the JSON of the OpenAI API"):
        backend(server, label_logprobs="top_k", max_retries=0).run([mc_request()])


@pytest.mark.parametrize("server", [{"fail_first": 99, "status": 401}], indirect=True)
def test_a_401_echoing_the_key_never_shows_it(server, monkeypatch, caplog):
    secret = "sk-live-0123456789abcdef"
    monkeypatch.setenv("OPENAI_API_KEY", secret)
    ours = backend(server, label_logprobs="top_k")
    with pytest.raises(HarnessError) as exc:
        ours.run([mc_request()])
    message = str(exc.value)
    assert "HTTP 401" in message and "Bearer [redacted]" in message and secret not in message
    # every log line too, whichever library writes it, while the backend is open
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("openai._base_client").debug("headers: %s", {"Authorization": f"Bearer {secret}"})
        logging.getLogger("httpx").warning("key %s rejected", secret)
        try:
            raise ValueError(f"token {secret}")
        except ValueError:
            logging.getLogger("harness").exception("failed")
    assert len(caplog.records) == 3
    text = caplog.text
    assert secret not in text and "Bearer [redacted]" in text and "key [redacted] rejected" in text
    ours.close()
    logging.getLogger("httpx").warning("after close %s", secret)  # no longer this backend's to hide
    assert caplog.records[-1].getMessage() == f"after close {secret}"
