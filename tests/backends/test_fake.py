"""The fake backend: deterministic answers by rule, log-probs that score as chosen, a top-k imitation."""

import json
import math

import pytest

from harness.backends.base import Message, Request
from harness.backends.fake import FakeBackend
from harness.backends.labels import label_floor


def mc(text: str, generate: bool = False) -> Request:
    return Request(messages=(Message(role="user", content=text),), generate=generate, candidates=("A", "B", "C", "D"))


def best(response) -> str:
    return max(response.candidate_logprobs, key=response.candidate_logprobs.get)


def test_first_fixed_and_table_answers():
    assert best(FakeBackend().run([mc("q")])[0]) == "A"
    assert best(FakeBackend(answer="C").run([mc("q")])[0]) == "C"
    request = mc("Capital of France?")
    fake = FakeBackend(table={"France": "B", request.key: "D"})  # the request's key wins over a text match
    assert best(fake.run([request])[0]) == "D"
    assert best(fake.run([mc("Is France in Europe?")])[0]) == "B"
    (r,) = FakeBackend(answer="B", p_chosen=0.4).run([mc("q")])
    assert math.exp(r.candidate_logprobs["B"]) == pytest.approx(0.4)
    assert math.exp(r.candidate_logprobs["A"]) == pytest.approx(0.2)
    assert r.candidates_floored == ()


def test_random_is_seeded_per_prompt_and_varies_across_prompts():
    requests = [mc(f"question {i}") for i in range(40)]
    one = [best(r) for r in FakeBackend(answer="random", seed=1).run(requests)]
    assert one == [best(r) for r in FakeBackend(answer="random", seed=1).run(requests)]
    assert one != [best(r) for r in FakeBackend(answer="random", seed=2).run(requests)]
    assert set(one) == {"A", "B", "C", "D"}


def test_top_k_floors_the_unseen_labels():
    (r,) = FakeBackend(answer="C", top_k=2).run([mc("q")])
    assert best(r) == "C" and r.candidates_floored == ("B", "D")  # ties: A is seen before B
    assert r.candidate_logprobs["D"] == pytest.approx(label_floor([math.log(0.7), math.log(0.1)]))


def test_generated_text_and_table_file(tmp_path):
    table = tmp_path / "answers.json"
    table.write_text(json.dumps({"France": "Paris"}))
    fake = FakeBackend(table_file=table, reply="The answer is {label}.")
    assert fake.run([Request(messages=(Message(role="user", content="Capital of France?"),))])[0].text == \
        "The answer is Paris."
    assert fake.run([mc("q", generate=True)])[0].text == "The answer is A."


def test_settings_are_part_of_the_identity():
    assert FakeBackend(answer="A").info.revision != FakeBackend(answer="B").info.revision
    assert FakeBackend(answer="A").info == FakeBackend(answer="A").info
