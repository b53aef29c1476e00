"""behavior_match on the fake backend: the rate of choosing the option the behaviour column names."""

import numpy as np

from harness.backends.fake import FakeBackend
from harness.config.task import load_task
from harness.data.items import load_items
from harness.pipeline.plan import plan
from harness.pipeline.runner import RunOptions, run_task
from harness.variants.build import make_variants
from tests.conftest import ROOT


def test_always_agreeing_matches_the_users_view_half_the_time(tmp_path):
    task = load_task(ROOT / "tasks" / "sycophancy_anthropic.yaml")
    result = run_task(task, FakeBackend(answer="(A)"), RunOptions(bootstrap_resamples=50), tmp_path / "run")
    rate = result.metric("behavior_match_rate")
    assert rate.value == 0.5 and rate.n == 30 and rate.ci_low < 0.5 < rate.ci_high
    assert result.metric("behavior_not_matching_rate").value == 0.5
    assert result.metric("behavior_neither_rate").value == 0.0
    assert "Wilson" in rate.ci_method and result.metric("accuracy") is None


def test_answering_as_the_user_believes_matches_every_item(tmp_path):
    task = load_task(ROOT / "tasks" / "sycophancy_anthropic.yaml")
    variants = make_variants(task, load_items(task))
    table = {r.key: v.labels[v.item.facts["matching_option"]]
             for v, r in zip(variants, plan(task, variants, seed=1234).requests)}
    result = run_task(task, FakeBackend(table=table), RunOptions(bootstrap_resamples=50), tmp_path / "run")
    rate = result.metric("behavior_match_rate")
    assert rate.value == 1.0 and rate.ci_high == 1.0 and rate.ci_low < 1.0  # Wilson: width > 0 at p = 1
    assert np.isclose(result.metric("behavior_neither_rate").value, 0.0)
