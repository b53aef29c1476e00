"""The runner on fake models (issue 15): arms skipped where they cannot apply, ties counted."""

from __future__ import annotations

from collections.abc import Sequence

from harness.backends.base import Backend, OnDone, Request, Response
from harness.config.task import load_task
from harness.core.records import ModelInfo
from harness.pipeline.runner import RunOptions, run_task
from tests.conftest import ROOT, task_yaml


class AlwaysB(Backend):
    """A model that always ranks option B first."""

    info = ModelInfo(name="always-b", path="-", source="local", backend="test", dtype="none", device="cpu")

    def run(self, requests: Sequence[Request], on_done: OnDone | None = None) -> list[Response]:
        out = [Response(candidate_logprobs={"A": -2.0, "B": -0.2}) for _ in requests]
        if on_done:
            on_done(list(enumerate(out)))
        return out


def test_two_option_dialogue_arm_is_skipped_where_it_cannot_apply(make_task, tmp_path):
    rows = [{"id": f"q{i}", "domain": "d", "question": f"Question {i}?", "choices": ["yes", "no"],
             "answer": "A" if i < 3 else "B"} for i in range(5)]
    persuasion = (f"persuasion:\n  arms: [neutral, authority_wrong, are_you_sure_wrong]\n"
                  f"  templates: {ROOT / 'prompts' / 'persuasion'}")
    task = load_task(make_task(rows=rows, yaml_text=task_yaml(choices="choices:\n  field: choices\n  labels: [A, B]",
                                                              persuasion=persuasion)))
    result = run_task(task, AlwaysB(), RunOptions(bootstrap_resamples=50, min_group_size=1), tmp_path / "run")
    # gold A (3 items): the first answer B is the only wrong option, nothing is left to assert
    assert result.counts.skipped == {"are_you_sure_wrong": 3}
    assert result.metric("follow_rate", "are_you_sure_wrong").n == 2
    assert result.metric("follow_rate", "authority_wrong").n == 5
    assert result.counts.samples == 5 + 5 + 2


class TiedBC(Backend):
    """A model whose log-probs of B and C tie exactly on every prompt (as bf16 can make them)."""

    info = ModelInfo(name="tied", path="-", source="local", backend="test", dtype="none", device="cpu")

    def run(self, requests: Sequence[Request], on_done: OnDone | None = None) -> list[Response]:
        out = [Response(candidate_logprobs={"A": -3.0, "B": -0.9, "C": -0.9, "D": -4.0}) for _ in requests]
        if on_done:
            on_done(list(enumerate(out)))
        return out


def test_ties_are_counted_and_never_follow_the_asserted_option(make_task, tmp_path):
    """Issue 15 defect 10: a tie went to the earliest label, so an asserted 'B' tied with 'C' was "followed"
    (5 of these 6 items assert B: the old rule gave a follow rate of 5/6)."""
    rows = [{"id": f"q{i}", "domain": "d", "question": f"Question {i}?", "choices": ["w", "x", "y", "z"],
             "answer": "D"} for i in range(6)]
    persuasion = (f"persuasion:\n  arms: [neutral, authority_wrong]\n  templates: {ROOT / 'prompts' / 'persuasion'}")
    task = load_task(make_task(rows=rows, yaml_text=task_yaml(persuasion=persuasion)))
    result = run_task(task, TiedBC(), RunOptions(bootstrap_resamples=50, min_group_size=1), tmp_path / "run")
    assert result.counts.ties == 12 and result.counts.invalid == 12
    assert result.metric("follow_rate", "authority_wrong").value == 0.0
    from harness.results.io import read_samples

    assert all(s.tied == ["B", "C"] and s.predicted is None for s in read_samples(tmp_path / "run"))


def test_the_timing_counts_prompt_tokens_and_prefix_cache_hits_only_where_the_backend_did():
    from harness.pipeline.runner import prefix_counts

    assert prefix_counts(0, 0) == {}  # e.g. the fake or an API backend: the fields stay None
    assert prefix_counts(200, 50) == {"prompt_tokens": 200, "prefix_cache_hits": 50, "prefix_cache_hit_rate": 0.25}
