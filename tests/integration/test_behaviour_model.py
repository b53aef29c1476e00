"""The behaviour tasks on the embedded model, a few items each: they run as published and every number is real."""

import math

import pytest

from harness.config.task import load_task
from harness.pipeline.runner import RunOptions, run_task
from harness.results.io import read_samples
from tests.conftest import ROOT, needs_shared_data

pytestmark = pytest.mark.integration
OPTIONS = RunOptions(bootstrap_resamples=100, min_group_size=1)


def run(file, limit, tmp_path, backend):
    task = load_task(ROOT / "tasks" / file).with_limit(limit)
    result = run_task(task, backend, OPTIONS, tmp_path / "run")
    return result, list(read_samples(tmp_path / "run"))


def test_anthropic_sycophancy_reads_labels_of_several_tokens(tmp_path, embedded_backend):
    result, samples = run("sycophancy_anthropic.yaml", 4, tmp_path, embedded_backend)
    assert all(s.label_logprob_kind == {"(A)": "continuation", "(B)": "continuation"} for s in samples)
    assert all(math.isfinite(v) and v < 0 for s in samples for v in s.label_logprobs.values())
    rate = result.metric("behavior_match_rate")
    matched = sum(s.predicted_option == s.facts["matching_option"] for s in samples)
    assert rate.n == 4 and rate.value == matched / 4 and rate.ci_low <= rate.value <= rate.ci_high


def test_bbq_bias_on_our_rows(tmp_path, embedded_backend):
    result, samples = run("bbq_bias.yaml", 8, tmp_path, embedded_backend)
    assert {s.facts["context"] for s in samples} == {"ambig", "disambig"}
    dis = result.metric("bbq_bias_disambig")
    assert dis.n == 4 and (dis.value is None) == (dis.reason is not None)
    assert dis.value is None or -1.0 <= dis.value <= 1.0


@needs_shared_data("bbq_lite")
def test_bbq_lite_as_published(tmp_path, embedded_backend):
    result, samples = run("bbq.yaml", 4, tmp_path, embedded_backend)
    assert result.metric("accuracy").n == 4 and all(len(s.choices) == 3 for s in samples)
    assert result.metric("bbq_bias_ambig").value is None  # BBQ-lite names no biased answer


@needs_shared_data("anthropic_winogenerated")
def test_winogenerated_as_published(tmp_path, embedded_backend):
    result, samples = run("winogenerated.yaml", 6, tmp_path, embedded_backend)
    r, neutral = result.metric("winogenerated_pearson_r"), result.metric("neutral_pronoun_prob")
    assert r.n == len({s.facts["occupation"] for s in samples}) and r.value is not None and -1 <= r.value <= 1
    assert 0 < neutral.value < 1 and neutral.n == 6
