"""The OpenAI-compatible backend against a small local HTTP server (retries, concurrency, errors,
secrets) and, when vLLM is installed, against a real `vllm serve` on loopback."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from harness.backends.base import Message, Request
from harness.backends.openai import OpenAIBackend, public_url
from harness.core.errors import HarnessError

QUESTION = (Message(role="user", content="Capital of France? A. Berlin B. Paris\nAnswer:"),)


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
    """Answers chat completions; can fail the first N calls with a status, and counts concurrency."""

    def __init__(self, fail_first: int = 0, status: int = 429, delay: float = 0.0) -> None:
        self.calls, self.in_flight, self.max_in_flight, self.auth = 0, 0, 0, []
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output clean
                pass

            def do_POST(self):  # noqa: N802
                self.rfile.read(int(self.headers["content-length"]))
                with outer.lock:
                    outer.calls += 1
                    n = outer.calls
                    outer.in_flight += 1
                    outer.max_in_flight = max(outer.max_in_flight, outer.in_flight)
                    outer.auth.append(self.headers.get("authorization"))
                time.sleep(delay)
                if n <= fail_first:
                    body, code = b'{"error": {"message": "slow down"}}', status
                else:
                    body, code = json.dumps(completion([("B", -0.2), (" A", -2.0), ("A", -2.5)])).encode(), 200
                with outer.lock:
                    outer.in_flight -= 1
                self.send_response(code)
                self.send_header("content-type", "application/json")
                self.send_header("retry-after-ms", "10")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

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


@pytest.mark.parametrize("server", [{"fail_first": 2, "status": 429}], indirect=True)
def test_retries_429_then_succeeds(server, monkeypatch):
    monkeypatch.setenv("MY_KEY", "sk-test-secret")
    backend = OpenAIBackend(server.url, "m", api_key_env="MY_KEY", max_retries=3)
    (r,) = backend.run([mc_request()])
    assert server.calls == 3
    assert r.candidate_logprobs["B"] == pytest.approx(-0.2)
    assert r.candidate_logprobs["A"] == pytest.approx(-2.0 + __import__("math").log1p(__import__("math").exp(-0.5)))
    assert r.candidates_floored == ("C",) and r.candidate_logprobs["C"] == pytest.approx(-7.5)
    assert server.auth[-1] == "Bearer sk-test-secret"
    assert "sk-test-secret" not in backend.info.model_dump_json()


@pytest.mark.parametrize("server", [{"fail_first": 99, "status": 500}], indirect=True)
def test_gives_up_on_persistent_5xx_with_one_line_error(server):
    with pytest.raises(HarnessError, match="HTTP 500"):
        OpenAIBackend(server.url, "m", max_retries=1).run([mc_request()])
    assert server.calls == 2  # the first try and one retry


@pytest.mark.parametrize("server", [{"delay": 0.15}], indirect=True)
def test_concurrency_is_bounded(server):
    done = []
    responses = OpenAIBackend(server.url, "m", concurrency=2).run(
        [mc_request(i) for i in range(6)], on_done=lambda pairs: done.extend(i for i, _ in pairs))
    assert len(responses) == 6 and sorted(done) == list(range(6))
    assert server.max_in_flight == 2


def test_unreachable_server():
    with pytest.raises(HarnessError, match="cannot reach the server"):
        OpenAIBackend("http://127.0.0.1:9/v1", "m", max_retries=0, timeout=2).run([mc_request()])


def test_credentials_never_recorded():
    assert public_url("https://user:pw@api.example.test:8443/v1?key=abc") == "https://api.example.test:8443/v1"
    backend = OpenAIBackend("http://u:p@127.0.0.1:1/v1", "m")
    assert "u:p" not in backend.info.model_dump_json()
