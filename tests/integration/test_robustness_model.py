"""Perturbations on the real embedded model: every built-in variant runs and every metric lands."""

import pytest

from harness.config.task import load_task
from harness.pipeline.runner import RunOptions, run_task
from harness.results.io import read_samples
from tests.conftest import ROOT

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def run(embedded_backend, tmp_path_factory):
    task = load_task(ROOT / "tasks" / "robustness.yaml")
    run_dir = tmp_path_factory.mktemp("runs") / "rob"
    result = run_task(task, embedded_backend, RunOptions(limit=6, bootstrap_resamples=200, min_group_size=1), run_dir)
    return task, result, read_samples(run_dir)


def test_every_variant_and_draw_is_asked(run):
    task, result, samples = run
    draws = sum(v.repeats for v in task.spec.perturbations.variants)
    assert result.counts.samples == 6 * (1 + draws)
    by_variant = {}
    for s in samples:
        by_variant.setdefault(s.variant, []).append(s)
    assert {"keyboard_typos#1", "keyboard_typos#3", "option_shuffle#2", "format_parens_lower"} <= set(by_variant)
    original = {s.item_id: s for s in by_variant["original"]}
    for s in by_variant["uppercase"]:
        assert s.messages[-1].content != original[s.item_id].messages[-1].content
        assert s.messages[-1].content.startswith("Question: ")  # the descriptor is the format's, not the text's
    for s in by_variant["format_parens_lower"]:
        assert s.labels == ["a", "b", "c", "d"] and "(a) " in s.messages[-1].content
        assert set(s.label_logprobs) == {"a", "b", "c", "d"}  # the model scored the new labels
    for s in by_variant["option_shuffle#1"]:  # the gold answer follows its option text
        o = original[s.item_id]
        assert s.choices[s.labels.index(s.target)] == o.choices[o.labels.index(o.target)]


def test_every_robustness_metric_is_reported(run):
    task, result, _ = run
    names = {(m.name, m.variant) for m in result.metrics}
    for v in task.spec.perturbations.variants:
        for metric in ("accuracy", "accuracy_drop", "performance_drop_rate", "flip_rate", "worst_case_accuracy",
                       "cohens_h"):
            assert (metric, v.name) in names
    for metric in ("worst_case_accuracy", "flip_rate", "cohens_h", "accuracy_spread", "accuracy_std",
                   "median_accuracy", "mean_drop", "worst_perturbation"):
        assert (metric, None) in names
    assert {(b.metric, b.variant) for b in result.groups} >= {("flip_rate", "option_reverse"),
                                                               ("accuracy_drop", "keyboard_typos")}
