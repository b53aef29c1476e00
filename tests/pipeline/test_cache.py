"""Request cache: keys cover what determines an answer; re-runs send nothing already answered."""

from harness.backends.base import Message, ModelInfo, Request, Response, Sampling
from harness.pipeline.cache import RequestCache, cache_key
from harness.pipeline.runner import answer

INFO = ModelInfo(name="m", path="/m", source="local", backend="fake", dtype="float32", device="cpu",
                 weights_sha256="abc")


def req(text: str, **kw) -> Request:
    return Request(messages=(Message(role="user", content=text),), candidates=("A", "B"), **kw)


class CountingBackend:
    """A fake for pure logic: answers 'A' with fixed log-probs and records what it was sent."""

    info = INFO

    def __init__(self) -> None:
        self.sent: list[Request] = []

    def run(self, requests, on_done=None):
        self.sent.extend(requests)
        out = [Response(text=r.messages[-1].content.upper(), candidate_logprobs={"A": -0.1, "B": -2.0})
               for r in requests]
        for start in range(0, len(out), 2):  # report in batches of two, as a real backend would
            if on_done:
                on_done([(i, out[i]) for i in range(start, min(start + 2, len(out)))])
        return out


def test_key_changes_with_everything_that_matters():
    base = cache_key(INFO, req("q"))
    assert base == cache_key(INFO, req("q"))
    assert base != cache_key(INFO, req("q2"))
    assert base != cache_key(INFO, req("q", sampling=Sampling(seed=1)))
    assert base != cache_key(INFO, req("q", sampling=Sampling(temperature=0.5)))
    assert base != cache_key(INFO, req("q", chat_template="none"))
    assert base != cache_key(INFO.model_copy(update={"dtype": "bfloat16"}), req("q"))
    assert base != cache_key(INFO.model_copy(update={"weights_sha256": "def"}), req("q"))
    assert base != cache_key(INFO.model_copy(update={"chat_template_sha256": "x"}), req("q"))


def test_second_run_sends_nothing(tmp_path):
    cache = RequestCache(tmp_path / "c.sqlite")
    requests = [req(f"q{i}") for i in range(5)]
    backend = CountingBackend()
    first, hits = answer(requests, backend, cache)
    assert hits == 0 and len(backend.sent) == 5
    second, hits = answer(requests, backend, cache)
    assert hits == 5 and len(backend.sent) == 5
    assert first == second


def test_partial_cache_sends_only_the_rest(tmp_path):
    cache = RequestCache(tmp_path / "c.sqlite")
    requests = [req(f"q{i}") for i in range(6)]
    answer(requests[:4], CountingBackend(), cache)
    backend = CountingBackend()
    responses, hits = answer(requests, backend, cache)
    assert hits == 4
    assert [r.messages[0].content for r in backend.sent] == ["q4", "q5"]
    assert responses[requests[5].key].text == "Q5"


def test_without_cache_everything_is_sent(tmp_path):
    backend = CountingBackend()
    answer([req("a"), req("b")], backend, None)
    answer([req("a"), req("b")], backend, None)
    assert len(backend.sent) == 4


def test_info_and_clear(tmp_path):
    cache = RequestCache(tmp_path / "c.sqlite")
    answer([req("a"), req("b"), req("c")], CountingBackend(), cache)
    assert cache.info()["responses"] == 3
    assert cache.clear() == 3
    assert cache.info()["responses"] == 0


def test_answered_names_the_cached_requests_of_this_model(tmp_path):
    cache = RequestCache(tmp_path / "c.sqlite")
    asked = [req(f"q{i}") for i in range(1203)]  # more than one SQL batch of 500
    answer(asked[:700], CountingBackend(), cache)
    assert cache.answered(INFO, asked) == {r.key for r in asked[:700]}
    assert cache.answered(INFO.model_copy(update={"dtype": "bfloat16"}), asked) == set()
