"""The runner end to end on the fake backend: no model, seconds, exact expectations."""

import json

from harness.backends.fake import FakeBackend
from harness.config.task import load_task
from harness.data.items import load_items
from harness.pipeline.cache import RequestCache
from harness.pipeline.plan import plan
from harness.pipeline.runner import RunOptions, run_task
from harness.report.explorer import PromptTable, explorer_rows
from harness.results.io import read_samples
from harness.variants.build import make_variants


def gold_table(task) -> dict[str, str]:
    variants = make_variants(task, load_items(task))
    return {r.key: v.target_label for v, r in zip(variants, plan(task, variants, seed=1234).requests)}


def test_gold_answers_score_every_item_right(make_task, tmp_path):
    task = load_task(make_task())
    estimates = []
    result = run_task(task, FakeBackend(table=gold_table(task)), RunOptions(), tmp_path / "run",
                      on_plan=estimates.append)
    assert result.metric("accuracy").value == 1.0 and result.counts.samples == 3
    assert estimates[0].requests == 3 and estimates[0].prompt_tokens is None  # no tokenizer: not counted
    assert result.model.backend == "fake" and result.timing.model_load_s == 0.0


def test_cached_answers_are_the_fake_settings_own(make_task, tmp_path):
    task = load_task(make_task())
    cache = RequestCache(tmp_path / "cache.sqlite")
    first = run_task(task, FakeBackend(answer="A"), RunOptions(), tmp_path / "a", cache=cache)
    again = run_task(task, FakeBackend(answer="A"), RunOptions(), tmp_path / "b", cache=cache)
    other = run_task(task, FakeBackend(answer="D"), RunOptions(), tmp_path / "c", cache=cache)
    assert again.counts.requests_cached == 3 and other.counts.requests_cached == 0
    assert first.metric("accuracy").value == again.metric("accuracy").value == 1 / 3  # only q2's gold is A
    assert other.metric("accuracy").value == 0.0  # no gold is D


def test_samples_and_counts_say_which_log_probs_are_floored(make_task, tmp_path):
    task = load_task(make_task())
    result = run_task(task, FakeBackend(answer="B", top_k=2), RunOptions(), tmp_path / "run")
    lines = [json.loads(x) for x in (tmp_path / "run" / "samples.jsonl").read_text().splitlines()]
    # the fake sees B and then A (ties keep the label order): C and D are floored in every sample
    assert [s["label_logprob_kind"] for s in lines] == [{"A": "exact", "B": "exact", "C": "floored",
                                                         "D": "floored"}] * 3
    assert result.counts.logprobs_floored == 6 and result.counts.logprobs_partial == 0
    exact = run_task(task, FakeBackend(answer="B"), RunOptions(), tmp_path / "exact")
    assert exact.counts.logprobs_floored == 0
    rows = explorer_rows(result, read_samples(tmp_path / "run"), PromptTable())["rows"]
    assert "p(B) = 0.87  p(C) = 0.00 (floor: outside the top k)" in rows[0]["output"]
