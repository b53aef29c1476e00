"""GroupRobustDPOTrainer on a tiny random model, on a CPU: TRL parity, weights, checkpoints, LoRA, model folder."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from torch.utils.data import DataLoader

from harness.train.build import dpo_args, load_model, load_tokenizer, make_trainer
from harness.train.config import load_train_config
from harness.train.preferences import load_preferences, to_dataset
from harness.train.robust import update_weights
from harness.train.run import train
from tests.train.helpers import ROOT, write_config

pytest.importorskip("trl", reason="the train extra is not installed: pip install -e '.[train]'")


@pytest.mark.parametrize("loss", ["dpo", "ipo"])
def test_none_reproduces_trls_own_loss_exactly(tmp_path: Path, tiny_model: Path, loss: str) -> None:
    from trl import DPOTrainer

    cfg = load_train_config(write_config(tmp_path, tiny_model, robust="none",
                                         loss=f"loss:\n  type: {loss}\n  beta: 0.5"))
    data = load_preferences(cfg)
    ours = make_trainer(cfg, data, load_model(str(tiny_model)), load_tokenizer(str(tiny_model)), tmp_path / "ours")
    theirs = DPOTrainer(load_model(str(tiny_model)), args=dpo_args(cfg, tmp_path / "trl"),
                        train_dataset=to_dataset(data.train, data.groups, chat=True),
                        processing_class=load_tokenizer(str(tiny_model)))
    assert theirs.loss_types == (["ipo"] if loss == "ipo" else ["sigmoid"])

    # One batch of every pair, mixed groups: the same loss, bit for bit.
    batch = next(iter(DataLoader(ours.train_dataset, batch_size=16, collate_fn=ours.data_collator)))
    assert batch["group_ids"].tolist() == [0] * 12 + [1] * 4
    batch = ours._prepare_inputs(batch)
    ours.model.train()
    theirs.model.train()
    mine = ours.compute_loss(ours.model, dict(batch))
    trl_loss = theirs.compute_loss(theirs.model, {k: v for k, v in batch.items() if k != "group_ids"})
    assert torch.equal(mine.detach(), trl_loss.detach())
    for trainer in (ours, theirs):
        trainer._metrics["train"].clear()

    # And the same training run: identical logged losses and identical final weights.
    ours.train()
    theirs.train()
    ours_losses = [h["loss"] for h in ours.state.log_history if "loss" in h]
    trl_losses = [h["loss"] for h in theirs.state.log_history if "loss" in h]
    assert len(ours_losses) == 4 and ours_losses == trl_losses
    assert ours_losses[-1] != ours_losses[0]  # it did train
    for (name, a), (_, b) in zip(ours.model.named_parameters(), theirs.model.named_parameters()):
        assert torch.equal(a, b), name


def test_group_dro_moves_weight_to_the_worse_group_and_logs_every_step(tmp_path: Path, tiny_model: Path) -> None:
    cfg = load_train_config(write_config(tmp_path, tiny_model, robust="group_dro"))
    outcome = train(cfg, max_steps=8)
    steps = [h for h in outcome.log_history if "group_weight/alpha" in h]
    assert len(steps) == 8 == outcome.steps  # one log line per step

    # The logged weights follow α ← α·exp(η L_g)/Σ from the logged group losses, step after step,
    # and every step moves weight toward the group whose loss was higher at that step.
    weights = [0.5, 0.5]
    for h in steps:
        before = weights
        losses = [h["group_loss/alpha"], h["group_loss/beta"]]
        weights = update_weights(weights, losses, step_size=1.0)
        assert weights == pytest.approx([h["group_weight/alpha"], h["group_weight/beta"]], rel=1e-5)
        if abs(losses[1] - losses[0]) > 1e-6:
            assert (weights[1] > before[1]) == (losses[1] > losses[0])
    assert outcome.weights == pytest.approx(weights, rel=1e-5)
    # The full batch is every pair, so the scaled group loss is the group's mean loss.
    assert steps[-1]["group_loss/beta"] == pytest.approx(steps[-1]["group_mean_loss/beta"])

    # The minority's preferences conflict with the majority's: it ends with the larger weight, and its
    # loss stays lower than under plain DPO, which follows the majority.
    assert outcome.weights[1] > 0.5 > outcome.weights[0]
    plain = train(load_train_config(write_config(tmp_path, tiny_model, robust="none", name="none.yaml",
                                                 output=f"output:\n  dir: {tmp_path / 'none'}")), max_steps=8)
    plain_steps = [h for h in plain.log_history if "group_mean_loss/alpha" in h]

    def mean_worst(log: list[dict]) -> float:
        return sum(max(h["group_mean_loss/alpha"], h["group_mean_loss/beta"]) for h in log[1:]) / (len(log) - 1)

    assert mean_worst(steps) < mean_worst(plain_steps)
    assert "group_weight/alpha" not in plain_steps[0]  # plain DPO has no group weights to log

    # The folder is a model: config, weights, tokenizer with its chat template, and the training record.
    folder = outcome.model_dir
    for name in ("config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json", "harness_train.json",
                 "train_log.json"):
        assert (folder / name).is_file(), name
    assert json.loads((folder / "config.json").read_text())["use_cache"] is True
    record = json.loads((folder / "harness_train.json").read_text())
    assert record["groups"] == ["alpha", "beta"] and record["train_counts"] == [12, 4]
    assert record["final_group_weights"] == pytest.approx(outcome.weights)
    # the official code's step size and adj for the same α: η/B and B·C_g (B = 16 pairs per update)
    assert record["official_equivalent"] == {"step_size": 1.0 / 16, "adj": [0.0, 0.0], "batch": 16}
    assert record["weights_dtype"] == "float32" and record["autocast"] is None


def test_resume_restores_group_weights_and_continues_identically(tmp_path: Path, tiny_model: Path) -> None:
    save = "output:\n  dir: {}\n  save_steps: 2\n  save_total_limit: 3"
    full_cfg = load_train_config(write_config(tmp_path, tiny_model, output=save.format(tmp_path / "full")))
    full = train(full_cfg)
    part_cfg = load_train_config(write_config(tmp_path, tiny_model, output=save.format(tmp_path / "part"),
                                              name="part.yaml"))
    first = train(part_cfg, max_steps=2)
    assert first.steps == 2 and (tmp_path / "part" / "checkpoints" / "checkpoint-2").is_dir()
    state = json.loads((tmp_path / "part" / "checkpoints" / "checkpoint-2" / "trainer_state.json").read_text())
    assert state["stateful_callbacks"]["GroupWeights"]["attributes"]["weights"] == pytest.approx(first.weights)
    resumed = train(part_cfg, resume=True)
    assert resumed.steps == 4 and resumed.weights != pytest.approx(first.weights)
    assert resumed.weights == pytest.approx(full.weights, abs=1e-9)
    a = load_model(str(tmp_path / "full")).state_dict()
    b = load_model(str(tmp_path / "part")).state_dict()
    for name in a:
        torch.testing.assert_close(a[name], b[name], rtol=0, atol=1e-6)


def test_resume_without_checkpoint_is_an_error(tmp_path: Path, tiny_model: Path) -> None:
    from harness.core.errors import HarnessError

    cfg = load_train_config(write_config(tmp_path, tiny_model))
    with pytest.raises(HarnessError, match="no checkpoint"):
        train(cfg, resume=True)


def test_lora_is_merged_into_a_full_model_folder_that_harness_run_accepts(tmp_path: Path, tiny_model: Path) -> None:
    cfg = load_train_config(write_config(
        tmp_path, tiny_model, extra="lora:\n  r: 4\n  alpha: 8\n  target_modules: [q_proj, v_proj]\ndtype: bfloat16\n",
        optimizer="optimizer:\n  learning_rate: 5.0e-2\n  batch_size: 8\n  max_steps: 2\n  max_length: 64"))
    outcome = train(cfg)
    folder = outcome.model_dir
    assert not (folder / "adapter_config.json").exists() and (folder / "config.json").is_file()
    trained, base = load_model(str(folder)).state_dict(), load_model(str(tiny_model)).state_dict()
    assert set(trained) == set(base)  # plain weights, no lora_A/lora_B left
    changed = [k for k in base if not torch.equal(trained[k], base[k])]
    assert changed and all("q_proj" in k or "v_proj" in k for k in changed)

    # `harness run --model <folder>`: the real command on two items of the built-in task. Trained with bf16
    # autocast, the weights trained and were saved in float32, and that is the dtype the run loads by default.
    record = json.loads((folder / "harness_train.json").read_text())
    assert (record["weights_dtype"], record["autocast"]) == ("float32", "bfloat16")
    assert json.loads((folder / "config.json").read_text())["dtype"] == "float32"
    runs = tmp_path / "runs"
    done = subprocess.run(
        [sys.executable, "-m", "harness.cli", "run", str(ROOT / "tasks" / "general_knowledge.yaml"), "--model",
         str(folder), "--limit", "2", "--batch-size", "2", "--device", "cpu", "--no-cache",
         "--no-report", "-o", str(runs)], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-2000:]
    (run_dir,) = list(runs.iterdir())
    result = json.loads((run_dir / "results.json").read_text())
    assert result["model"]["name"] == folder.name and result["counts"]["items"] == 2
    assert result["model"]["dtype"] == "float32" and "(float32)" in done.stdout


LAUNCH = """import typer
from harness.cli.train import train_command
app = typer.Typer()
app.command("train")(train_command)
app.command("other")(lambda: None)
app()
"""


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_data_parallel_on_two_processes_matches_one_process(tmp_path: Path, tiny_model: Path) -> None:
    """`torchrun` with 2 CPU processes (gloo), 8 pairs each per step, against 1 process with 16: the same
    group losses, group weights and final model (the path `accelerate launch` takes on GPUs)."""
    single = train(load_train_config(write_config(tmp_path, tiny_model, output=f"output:\n  dir: {tmp_path / 'one'}",
                                                  name="one.yaml")))
    cfg = write_config(tmp_path, tiny_model, name="two.yaml", output=f"output:\n  dir: {tmp_path / 'two'}",
                       optimizer="optimizer:\n  learning_rate: 1.0e-2\n  batch_size: 8\n  max_steps: 4\n"
                                 "  max_length: 64\n  lr_scheduler: constant")
    script = tmp_path / "launch.py"
    script.write_text(LAUNCH)
    env = {**__import__("os").environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port",
                           str(_free_port()), str(script), "train", str(cfg), "--no-eval"],
                          capture_output=True, text=True, timeout=300, cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    assert "2 process(es)" in done.stdout and "on 2 processes" in done.stdout
    assert done.stdout.count("step 4/4") == 1  # one process reports
    record = json.loads((tmp_path / "two" / "harness_train.json").read_text())
    assert record["final_group_weights"] == pytest.approx(single.weights, abs=1e-5)
    two_log = json.loads((tmp_path / "two" / "train_log.json").read_text())
    one_losses = [h["group_loss/beta"] for h in single.log_history if "group_loss/beta" in h]
    assert [h["group_loss/beta"] for h in two_log if "group_loss/beta" in h] == pytest.approx(one_losses, abs=1e-5)
    a, b = load_model(str(tmp_path / "one")).state_dict(), load_model(str(tmp_path / "two")).state_dict()
    for name in a:
        torch.testing.assert_close(a[name], b[name], rtol=0, atol=1e-4)
