"""The runner end to end on the fake backend: no model, seconds, exact expectations."""

from harness.backends.fake import FakeBackend
from harness.config.spec import load_task
from harness.data.items import load_items
from harness.pipeline.cache import RequestCache
from harness.pipeline.plan import plan
from harness.pipeline.runner import RunOptions, run_task
from harness.variants.variant import make_variants


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
