"""Preference evaluation per group, in the harness results schema, readable by `harness report`."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from typer.testing import CliRunner

from harness.report.build import write_report
from harness.results.io import read_result, read_samples
from harness.train.config import load_train_config
from harness.train.eval_run import evaluate
from harness.train.evaluate import PairScore, preference_metrics, to_sample
from harness.train.preferences import PreferenceRow
from harness.train.run import train
from tests.train.helpers import write_config


def _score(row_id: str, group: str, cw: float, cl: float, rw: float, rl: float) -> PairScore:
    h = (cw - rw) - (cl - rl)
    loss = -math.log(1 / (1 + math.exp(-0.5 * h)))
    return PairScore(PreferenceRow(row_id, group, f"prompt {row_id}", "good", "bad"), cw, cl, rw, rl, loss, 0.5)


SCORES = [
    _score("a1", "A", -10, -12, -11, -11),  # h = 2: reward right, log-prob right
    _score("a2", "A", -10, -9, -10, -10),  # h = -1: both wrong
    _score("a3", "A", -5, -5, -5, -5),  # h = 0: a tie is wrong; equal log-probs are wrong
    _score("b1", "B", -3, -4, -3, -4),  # h = 0: reward wrong, log-prob right
    _score("b2", "B", -2, -6, -4, -4),  # h = 4: both right
]


def test_metrics_by_hand() -> None:
    metrics, groups = preference_metrics(SCORES, loss_type="dpo", seed=1, resamples=200, level=0.95,
                                         min_group_size=1)
    m = {x.name: x for x in metrics}
    assert m["accuracy"].value == pytest.approx(2 / 5) and m["accuracy"].n == 5
    assert (m["worst_group_accuracy"].value, m["worst_group_accuracy"].group) == (pytest.approx(1 / 3), "A")
    assert m["worst_group_gap"].value == pytest.approx(2 / 5 - 1 / 3)
    # DPO losses -log σ(0.5 h): 0.313262, 0.974077, log 2, log 2, 0.126928
    assert m["preference_loss"].value == pytest.approx(2.800561 / 5, abs=1e-6)
    assert (m["worst_group_preference_loss"].value, m["worst_group_preference_loss"].group) == (
        pytest.approx(1.980486 / 3, abs=1e-6), "A")
    assert m["preference_loss_gap"].value == pytest.approx(1.980486 / 3 - 2.800561 / 5, abs=1e-6)
    assert m["logprob_accuracy"].value == pytest.approx(3 / 5)
    assert m["worst_group_logprob_accuracy"].group == "A"
    for x in metrics:
        assert x.formula and x.n > 0
        if x.value is not None and x.ci_low is not None:
            assert x.ci_low <= x.ci_high
    assert m["accuracy"].ci_low <= 0.4 <= m["accuracy"].ci_high
    by_metric = {bd.metric: bd for bd in groups}
    assert by_metric["preference_loss"].higher_is_better is False and by_metric["preference_loss"].worst == "A"
    assert [(g.group, g.value) for g in by_metric["accuracy"].groups] == [("A", pytest.approx(1 / 3)), ("B", 0.5)]


def test_small_groups_are_never_crowned_worst() -> None:
    metrics, _ = preference_metrics(SCORES, loss_type="dpo", seed=1, resamples=50, level=0.95, min_group_size=3)
    m = {x.name: x for x in metrics}
    assert m["worst_group_accuracy"].group == "A"  # B has 2 pairs
    metrics, _ = preference_metrics(SCORES, loss_type="dpo", seed=1, resamples=50, level=0.95, min_group_size=4)
    assert {x.name: x for x in metrics}["worst_group_accuracy"].value is None


def test_clusters_are_resampled_and_counted_when_the_data_has_them() -> None:
    from dataclasses import replace

    # a1 and a2 are two phrasings of one fact: group A has 2 clusters, B has 2
    clustered = [replace(s, row=replace(s.row, cluster="fA" if s.row.id in ("a1", "a2") else s.row.id))
                 for s in SCORES]
    metrics, groups = preference_metrics(clustered, loss_type="dpo", seed=1, resamples=50, level=0.95,
                                         min_group_size=2, cluster_column="fact")
    m = {x.name: x for x in metrics}
    assert "resampling clusters of pairs (column 'fact')" in m["accuracy"].ci_method
    assert m["worst_group_accuracy"].formula.endswith(">= 2 clusters")
    accuracy = next(bd for bd in groups if bd.metric == "accuracy")
    assert [(g.group, g.n, g.items) for g in accuracy.groups] == [("A", 3, 2), ("B", 2, 2)]
    plain, _ = preference_metrics(SCORES, loss_type="dpo", seed=1, resamples=50, level=0.95, min_group_size=2)
    assert "resampling pairs" in plain[0].ci_method


def test_sample_lines() -> None:
    tie, right = to_sample(SCORES[2]), to_sample(SCORES[4])
    assert (tie.predicted, tie.correct, tie.gold_prob) == (None, False, 0.5)
    assert (right.predicted, right.predicted_option, right.correct) == ("chosen", 0, True)
    assert right.groups == {"group": "B"} and right.choices == ["good", "bad"]
    assert to_sample(SCORES[1]).predicted == "rejected"


def test_evaluate_base_and_trained_models_into_the_leaderboard(tmp_path: Path, tiny_model: Path) -> None:
    pytest.importorskip("trl", reason="the train extra is not installed")
    cfg = load_train_config(write_config(tmp_path, tiny_model, data="data:\n  path: prefs.jsonl\n  columns: {id: id}\n"
                                                                     "  eval_fraction: 0.25"))
    runs = tmp_path / "runs"
    # The base model against itself: every margin is 0, so reward accuracy is 0 and the DPO loss is log 2.
    base_dir, base = evaluate(cfg, runs_dir=runs)
    assert base.metric("accuracy").value == 0.0
    assert base.metric("preference_loss").value == pytest.approx(math.log(2))
    assert base.counts.items == 4 and base.task.name == "prefs" and base.task.config["reference"] == tiny_model.name
    assert {s.groups["group"] for s in read_samples(base_dir)} == {"alpha", "beta"}

    trained = train(cfg, max_steps=3)
    run_dir, result = evaluate(cfg, model=str(trained.model_dir), runs_dir=runs)
    assert read_result(run_dir) == result
    assert result.model.name == "model" and result.model.source == "local"
    # the policy loads in the dtype its folder was trained in, and the results say so; --dtype overrides it
    assert result.model.dtype == "float32" and result.task.config["policy_dtype_source"] == "harness_train.json"
    assert base.model.dtype == "float32" and base.task.config["policy_dtype_source"] == "default"
    _, rounded = evaluate(cfg, model=str(trained.model_dir), runs_dir=tmp_path / "bf16", dtype="bfloat16")
    assert rounded.model.dtype == "bfloat16" and rounded.task.config["policy_dtype_source"] == "--dtype"
    assert result.metric("preference_loss").value != pytest.approx(math.log(2))
    assert result.metric("worst_group_preference_loss").group in ("alpha", "beta")

    report, count = write_report([runs], tmp_path / "index.html")
    assert count == 2
    html = report.read_text()
    assert "prefs" in html and "worst_group_preference_loss" in html


def test_train_eval_command(tmp_path: Path, tiny_model: Path) -> None:
    pytest.importorskip("trl", reason="the train extra is not installed")
    import typer

    from harness.cli.train import train_eval_command

    app = typer.Typer()
    app.command("train-eval")(train_eval_command)
    app.command("other")(lambda: None)
    cfg = write_config(tmp_path, tiny_model, data="data:\n  path: prefs.jsonl\n  eval_fraction: 0.25")
    result = CliRunner().invoke(app, ["train-eval", str(cfg), "--runs", str(tmp_path / "runs"),
                                      "--report", str(tmp_path / "r.html"), "--split", "train"])
    assert result.exit_code == 0, result.output
    assert "accuracy (reward)" in result.output and "report:" in result.output
    bad = CliRunner().invoke(app, ["train-eval", str(cfg), "--split", "dev"])
    assert bad.exit_code == 2 and "unknown split 'dev'" in bad.output
    missing = CliRunner().invoke(app, ["train-eval", str(cfg), "--model", str(tmp_path / "nowhere")])
    assert missing.exit_code == 2 and "field '--model': model folder not found" in missing.output
