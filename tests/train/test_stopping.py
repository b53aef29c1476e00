"""Early stopping on the worst group's validation loss, the plateau cut, η following the LR, the collapse warning."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from harness.train.build import load_model
from harness.train.config import load_train_config
from harness.train.run import train
from harness.train.stopping import worst_group_loss
from tests.train.helpers import write_config

pytest.importorskip("trl", reason="the train extra is not installed: pip install -e '.[train]'")

VALIDATION = "data:\n  path: prefs.jsonl\n  columns: {id: id}\n  validation_fraction: 0.25"
OPTIMIZER = ("optimizer:\n  learning_rate: 1.0e-2\n  batch_size: 12\n  max_steps: {steps}\n  max_length: 64\n"
             "  lr_scheduler: {scheduler}\n  min_learning_rate: 5.0e-4")


def test_worst_group_loss_by_hand() -> None:
    assert worst_group_loss([1.0, 3.0, 0.5, 0.5], ["a", "a", "b", "b"]) == (2.0, {"a": 2.0, "b": 0.5})


def test_stops_after_patience_and_restores_the_best_weights(tmp_path: Path, tiny_model: Path) -> None:
    # min_delta 100: only the first evaluation is ever a new best, so training stops at the second (patience 1)
    # and ends with the weights of step 1, exactly those of a run stopped after one step.
    stop = "early_stopping:\n  eval_steps: 1\n  patience: 1\n  min_delta: 100.0\n"
    cfg = load_train_config(write_config(tmp_path, tiny_model, data=VALIDATION, extra=stop,
                                         optimizer=OPTIMIZER.format(steps=6, scheduler="constant")))
    lines: list[str] = []
    outcome = train(cfg, log=lines.append)
    assert outcome.steps == 2
    record = json.loads((outcome.model_dir / "harness_train.json").read_text())
    stopping = record["early_stopping"]
    assert stopping["best_step"] == 1 and "no lower worst-group validation loss in 1" in stopping["stopped"]
    assert [e["step"] for e in stopping["evaluations"]] == [1, 2]
    first = stopping["evaluations"][0]
    assert first["val_worst_group_loss"] == max(first["val_group_loss/alpha"], first["val_group_loss/beta"])
    assert any("restored the weights of step 1" in line for line in lines)
    assert any("val_worst_group_loss" in h for h in outcome.log_history)

    one = train(load_train_config(write_config(tmp_path, tiny_model, data=VALIDATION, name="one.yaml",
                                               optimizer=OPTIMIZER.format(steps=1, scheduler="constant"),
                                               output=f"output:\n  dir: {tmp_path / 'one'}")))
    a, b = load_model(str(outcome.model_dir)).state_dict(), load_model(str(one.model_dir)).state_dict()
    for name in a:
        assert torch.equal(a[name], b[name]), name


def test_plateau_cuts_the_lr_and_eta_follows_it(tmp_path: Path, tiny_model: Path) -> None:
    # Every evaluation after the first is bad: the LR is cut ×0.1 at steps 2 and 3 (1e-2 -> 1e-3 -> 1e-4), and the
    # second cut falls below min_learning_rate 5e-4, which stops training. η = 1·(lr_t/lr)^0.5.
    stop = "early_stopping:\n  eval_steps: 1\n  patience: null\n  min_delta: 100.0\n  restore_best: false\n"
    cfg = load_train_config(write_config(
        tmp_path, tiny_model, data=VALIDATION, extra=stop,
        robust="group_dro\n  step_size_lr_power: 0.5",
        optimizer=OPTIMIZER.format(steps=8, scheduler="reduce_on_plateau") + "\n  plateau_patience: 0"))
    outcome = train(cfg)
    assert outcome.steps == 3
    record = json.loads((outcome.model_dir / "harness_train.json").read_text())
    assert [e["learning_rate"] for e in record["early_stopping"]["evaluations"]] == pytest.approx([1e-2, 1e-3, 1e-4])
    assert "below optimizer.min_learning_rate" in record["early_stopping"]["stopped"]
    etas = [h["group_step_size"] for h in outcome.log_history if "group_step_size" in h]
    assert etas == pytest.approx([1.0, 1.0, 0.1 ** 0.5])


def test_eta_follows_a_linear_schedule(tmp_path: Path, tiny_model: Path) -> None:
    cfg = load_train_config(write_config(tmp_path, tiny_model, robust="group_dro\n  step_size_lr_power: 1.0",
                                         optimizer=OPTIMIZER.format(steps=4, scheduler="linear")))
    outcome = train(cfg)
    etas = [h["group_step_size"] for h in outcome.log_history if "group_step_size" in h]
    assert etas == pytest.approx([1.0, 0.75, 0.5, 0.25])  # η = 1 times lr_t/lr = 1 - t/4 for t = 0..3


def test_ipo_scale_warns_before_and_when_the_weights_collapse(tmp_path: Path, tiny_model: Path) -> None:
    cfg = load_train_config(write_config(tmp_path, tiny_model, loss="loss:\n  type: ipo\n  beta: 0.1",
                                         optimizer=OPTIMIZER.format(steps=3, scheduler="constant").replace(
                                             "batch_size: 12", "batch_size: 1")))
    lines: list[str] = []
    outcome = train(cfg, log=lines.append)
    warnings = [line for line in lines if line.startswith("warning:")]
    assert len(warnings) == 2, lines
    assert "η·l₀ = 25" in warnings[0] and "η ≤ 0.04" in warnings[0]
    assert "group weights collapsed after 1 update(s)" in warnings[1]  # one pair per batch: one group present
    record = json.loads((outcome.model_dir / "harness_train.json").read_text())
    assert record["warnings"] == [w.removeprefix("warning: ") for w in warnings]
    # DPO with the same η: neither warning
    quiet: list[str] = []
    train(load_train_config(write_config(tmp_path, tiny_model, name="dpo.yaml",
                                         optimizer=OPTIMIZER.format(steps=3, scheduler="constant"))), log=quiet.append)
    assert not [line for line in quiet if line.startswith("warning:")]
