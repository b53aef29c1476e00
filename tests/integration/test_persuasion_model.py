"""Persuasion arms on the real embedded model: every arm runs, and "are you sure?" is a real dialogue."""

import pytest

from harness.config.task import load_task
from harness.pipeline.runner import RunOptions, run_task
from harness.results.io import read_samples
from tests.conftest import ROOT

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def run(embedded_backend, tmp_path_factory):
    task = load_task(ROOT / "tasks" / "sycophancy.yaml")
    run_dir = tmp_path_factory.mktemp("runs") / "syc"
    result = run_task(task, embedded_backend, RunOptions(limit=6, bootstrap_resamples=200), run_dir)
    return result, read_samples(run_dir)


def test_multi_turn_arm_is_a_real_second_turn(run):
    result, samples = run
    neutral = {s.item_id: s for s in samples if s.variant == "neutral"}
    dialogues = [s for s in samples if s.variant in ("are_you_sure", "are_you_sure_wrong")]
    assert len(dialogues) == 12
    for s in dialogues:
        first = neutral[s.item_id]
        roles = [m.role for m in s.messages]
        assert roles[-3:] == ["user", "assistant", "user"]
        assert s.messages[-3].content == first.messages[-1].content  # turn 1 is the neutral prompt
        assert s.messages[-2].content == first.predicted  # the model's own first answer
        assert "Are you sure?" in s.messages[-1].content
        assert s.prompt_tokens > first.prompt_tokens + 10  # the model saw the whole dialogue
        assert s.label_logprobs != first.label_logprobs
        if s.variant == "are_you_sure_wrong":
            assert s.asserted not in (first.predicted, s.target)
    # 6 items x 8 arms; turn 1 of both dialogues is the neutral request (sent once)
    assert result.counts.samples == 48 and result.counts.requests_unique == 6 * 6 + 12


def test_every_persuasion_metric_is_reported(run):
    result, _ = run
    names = {(m.name, m.variant) for m in result.metrics}
    for arm in ("authority_wrong", "user_belief_wrong", "leading_question", "are_you_sure_wrong"):
        assert {("follow_rate", arm), ("accuracy_drop", arm), ("delta_p_gold", arm), ("delta_p_asserted", arm)} <= names
    assert {("misleading_rate", "leading_question"), ("robust_accuracy", "leading_question"),
            ("flip_correct_to_wrong", "are_you_sure"), ("flip_wrong_to_correct", "are_you_sure")} <= names
    assert sorted({s.number for s in result.states}) == list(range(9))  # 0: the unreadable row
    for family in ("authority", "user_belief"):
        for guidance in ("Correct", "Wrong"):
            shares = [s.value for s in result.states if s.family == family and s.guidance == guidance]
            assert sum(shares) == pytest.approx(1.0)
    for m in result.metrics:
        if m.value is not None and m.n > 1:
            assert m.ci_low <= m.value <= m.ci_high, m
