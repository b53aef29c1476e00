"""Training configs and preference data: bad input is one line naming file, line and field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from harness.cli.train import train_command
from harness.core.errors import HarnessError
from harness.train.config import load_train_config
from harness.train.preferences import load_preferences
from tests.train.helpers import MAJORITY, MINORITY, ROOT, config_error, write_config, write_rows

EXAMPLE = ROOT / "train" / "grpo_example.yaml"


def test_unknown_loss_names_file_line_and_field(tmp_path: Path) -> None:
    path = write_config(tmp_path, None, loss="loss:\n  type: kto\n  beta: 0.1")
    err = config_error(path)
    assert (err.file, err.field) == (str(path), "loss.type")
    assert err.line == path.read_text().splitlines().index("  type: kto") + 1
    assert str(err).startswith(f"{path}:{err.line}: field 'loss.type': Input should be 'dpo' or 'ipo'")
    assert "\n" not in str(err)


def test_unknown_robust_mode_and_unknown_key(tmp_path: Path) -> None:
    assert config_error(write_config(tmp_path, None, robust="minimax")).field == "robust.mode"
    path = write_config(tmp_path, None, extra="learning_rate: 0.1\n")
    err = config_error(path)
    assert err.field == "learning_rate" and "unknown key" in str(err)
    assert err.line == len(path.read_text().splitlines())


def test_missing_group_column(tmp_path: Path) -> None:
    rows = [{k: v for k, v in r.items() if k != "group"} | {"country": r["group"]} for r in MAJORITY + MINORITY]
    path = write_config(tmp_path, None, rows=rows)
    err = config_error(path, with_data=True)
    assert err.field == "data.columns.group" and "column 'group' not in the dataset" in str(err)
    assert "country" in str(err)  # the columns that do exist
    assert err.line == path.read_text().splitlines().index("  columns: {id: id}") + 1


def test_a_group_with_no_rows(tmp_path: Path) -> None:
    path = write_config(tmp_path, None, data="data:\n  path: prefs.jsonl\n  groups:\n    - alpha\n    - gamma\n"
                                             "    - beta")
    err = config_error(path, with_data=True)
    assert (err.field, err.line) == ("data.groups.1", 5)
    assert "group 'gamma' has no rows in the data (groups found: alpha, beta)" in str(err)


def test_a_group_with_no_training_rows(tmp_path: Path) -> None:
    rows = [r | {"split": "train"} for r in MAJORITY] + [r | {"split": "test"} for r in MINORITY]
    path = write_config(tmp_path, None, rows=rows, data="data:\n  path: prefs.jsonl\n  split_column: split")
    err = config_error(path, with_data=True)
    assert err.field == "data.columns.group" and "group 'beta' has no training rows" in str(err)


def test_one_group_is_not_enough_and_empty_values_are_named(tmp_path: Path) -> None:
    err = config_error(write_config(tmp_path, None, rows=MAJORITY), with_data=True)
    assert "at least two groups" in str(err)
    rows = MAJORITY + MINORITY[:3] + [MINORITY[3] | {"chosen": "  "}]
    err = config_error(write_config(tmp_path, None, rows=rows), with_data=True)
    assert err.field == "data.columns.chosen" and "row 15: column 'chosen' is empty" in str(err)


def test_missing_data_file_and_conflicting_split(tmp_path: Path) -> None:
    path = write_config(tmp_path, None, data="data:\n  path: nowhere.jsonl")
    assert config_error(path, with_data=True).field == "data.path"
    path = write_config(tmp_path, None, data="data:\n  path: prefs.jsonl\n  split_column: split\n  eval_fraction: 0.2")
    assert config_error(path).field == "data.eval_fraction"


def test_stratified_split_and_group_order(tmp_path: Path) -> None:
    path = write_config(tmp_path, None, data="data:\n  path: prefs.jsonl\n  eval_fraction: 0.25\n"
                                             "  groups: [beta, alpha]")
    data = load_preferences(load_train_config(path))
    assert data.groups == ["beta", "alpha"]
    assert data.counts(data.train) == [3, 9] and data.counts(data.eval) == [1, 3]
    again = load_preferences(load_train_config(path))
    assert [r.id for r in again.eval] == [r.id for r in data.eval]  # seeded


def test_shipped_dataset_is_imbalanced_with_a_minority_and_conflicting_groups() -> None:
    data = load_preferences(load_train_config(EXAMPLE))
    assert data.groups == ["United States", "Germany", "United Kingdom"]
    assert data.counts(data.train) == [120, 48, 16]
    assert data.counts(data.eval) == [24, 16, 12]
    train_prompts = {r.prompt.split(" ", 5)[-1] for r in data.train}
    assert all(r.prompt.split(" ", 5)[-1] not in train_prompts for r in data.eval)  # held-out facts
    assert all(r.chosen != r.rejected for r in data.train + data.eval)
    # The same fact is preferred in different conventions by different groups.
    by_answer = {}
    for r in data.train:
        by_answer.setdefault((r.chosen, r.rejected), set()).add(r.group)
    assert any((rej, cho) in by_answer for cho, rej in by_answer)
    lines = (ROOT / "tasks" / "data" / "preferences_groups.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 236 and json.loads(lines[0])["group"] == "United States"


def _app() -> typer.Typer:
    app = typer.Typer()
    app.command("train")(train_command)
    app.command("other")(lambda: None)  # two commands, so `train` is a subcommand as in harness/cli/main.py
    return app


def test_cli_check_and_bad_config_exit_code(tmp_path: Path) -> None:
    runner = CliRunner()
    ok = runner.invoke(_app(), ["train", str(EXAMPLE), "--check"])
    assert ok.exit_code == 0, ok.output
    assert "United Kingdom: 16 train / 12 eval" in ok.output
    bad = write_config(tmp_path, None, loss="loss:\n  type: kto")
    result = runner.invoke(_app(), ["train", str(bad), "--check"])
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    line = bad.read_text().splitlines().index("  type: kto") + 1
    assert lines == [f"harness: error: {bad}:{line}: field 'loss.type': Input should be 'dpo' or 'ipo'"]


def test_data_file_relative_to_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HARNESS_ALLOW_PATHS", str(tmp_path))  # the data lies above the config's folder
    sub = tmp_path / "configs"
    sub.mkdir()
    write_rows(tmp_path / "rows.jsonl", MAJORITY + MINORITY)
    path = write_config(sub, None, data="data:\n  path: ../rows.jsonl")
    data = load_preferences(load_train_config(path))
    assert data.counts(data.train) == [12, 4]


def test_accelerate_config_is_multi_gpu_data_parallel() -> None:
    from accelerate.commands.config.config_args import load_config_from_file
    from accelerate.utils import DistributedType

    config = load_config_from_file(str(ROOT / "train" / "accelerate_multi_gpu.yaml"))
    assert config.distributed_type == DistributedType.MULTI_GPU
    assert (config.num_machines, config.num_processes, config.use_cpu) == (1, 2, False)
    assert config.mixed_precision == "no"  # the training config's dtype decides


def test_a_tracker_that_is_not_installed_is_named(tmp_path: Path) -> None:
    import importlib.util

    pytest.importorskip("trl", reason="the train extra is not installed")
    if importlib.util.find_spec("wandb") is not None:
        pytest.skip("wandb is installed here")
    from harness.train.build import dpo_args

    path = write_config(tmp_path, None, output="output:\n  report_to: [wandb]")
    with pytest.raises(HarnessError) as info:
        dpo_args(load_train_config(path), tmp_path / "out")
    assert info.value.field == "output.report_to.0" and "needs the package 'wandb'" in str(info.value)
