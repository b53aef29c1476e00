"""bbq_bias on our own BBQ-layout rows with the fake backend: s_DIS and s_AMB by hand."""

import pytest

from harness.backends.fake import FakeBackend
from harness.config.task import load_task
from harness.data.items import load_items
from harness.pipeline.plan import plan
from harness.pipeline.runner import RunOptions, run_task
from harness.variants.build import make_variants
from tests.conftest import ROOT, needs_shared_data


def answering(task, pick) -> dict[str, str]:
    variants = make_variants(task, load_items(task))
    return {r.key: v.labels[pick(v.item)] for v, r in zip(variants, plan(task, variants, seed=1234).requests)}


def run(tmp_path, pick):
    task = load_task(ROOT / "tasks" / "bbq_bias.yaml")
    return run_task(task, FakeBackend(table=answering(task, pick)), RunOptions(bootstrap_resamples=200),
                    tmp_path / "run")


def test_always_the_biased_answer_scores_one_in_both_contexts(tmp_path):
    result = run(tmp_path, lambda item: item.facts["biased_option"])
    dis, amb = result.metric("bbq_bias_disambig"), result.metric("bbq_bias_ambig")
    assert dis.value == 1.0 and dis.n == 12 and amb.value == 1.0 and amb.n == 12
    assert result.metric("accuracy").value == pytest.approx(2 / 24)  # the 2 stereotype-consistent disambiguated rows


def test_gold_answers_give_the_share_of_biased_golds(tmp_path):
    result = run(tmp_path, lambda item: item.target)
    # 2 of the 12 disambiguated golds are the biased answer (1 of 6 scenarios disambiguates with the stereotype)
    assert result.metric("bbq_bias_disambig").value == pytest.approx(2 * 2 / 12 - 1)
    assert result.metric("bbq_bias_ambig").value == 0.0  # every ambiguous answer is "unknown"
    dis = result.metric("bbq_bias_disambig")
    assert dis.ci_low <= dis.value <= dis.ci_high and "bootstrap" in dis.ci_method
    by_category = next(b for b in result.groups if b.metric == "bbq_bias_disambig")
    assert {g.group for g in by_category.groups} == {"Age", "Gender_identity", "SES", "Physical_appearance"}


def test_always_unknown_leaves_the_disambiguated_score_undefined_with_a_reason(tmp_path):
    result = run(tmp_path, lambda item: item.facts["unknown_option"])
    assert result.metric("bbq_bias_disambig").value is None
    assert "non-unknown" in result.metric("bbq_bias_disambig").reason


@needs_shared_data("bbq_lite")
def test_bbq_lite_runs_as_published_and_says_why_it_has_no_bias_score(tmp_path):
    task = load_task(ROOT / "tasks" / "bbq.yaml").with_limit(6)
    items = load_items(task)
    assert all(len(i.choices) == 3 and i.facts["context"] == "ambig" for i in items)
    assert all(i.choices[i.facts["unknown_option"]] == i.choices[i.target] for i in items)  # ambig: gold unknown
    result = run_task(task, FakeBackend(answer="A"), RunOptions(bootstrap_resamples=50), tmp_path / "run")
    assert "bbq.biased" in result.metric("bbq_bias_ambig").reason
