"""Clusters of paraphrased pairs, validation rows, and the new config fields' errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.core.errors import HarnessError
from harness.train.config import load_train_config
from harness.train.preferences import load_preferences
from tests.train.helpers import MAJORITY, MINORITY, ROOT, config_error, write_config

EXAMPLE = ROOT / "train" / "grpo_example.yaml"
# Three phrasings of each of 4 alpha facts and 2 beta facts (clusters "alpha-0" ... "beta-1").
CLUSTERED = [r | {"fact": f"{r['group']}-{i // 3}"} for i, r in enumerate(MAJORITY)] + \
    [r | {"fact": f"{r['group']}-{i // 2}"} for i, r in enumerate(MINORITY)]


def test_shipped_data_names_the_fact_of_every_pair() -> None:
    data = load_preferences(load_train_config(EXAMPLE))
    facts = {g: len({r.cluster for r in data.eval if r.group == g}) for g in data.groups}
    assert facts == {"United States": 10, "Germany": 8, "United Kingdom": 7}
    assert all(r.cluster == f"fact-{r.id.split('-')[2]}" for r in data.train + data.eval)
    assert not {r.cluster for r in data.train} & {r.cluster for r in data.eval}  # test facts never trained on


def test_validation_fraction_holds_out_whole_clusters_per_group(tmp_path: Path) -> None:
    path = write_config(tmp_path, None, rows=CLUSTERED, data="data:\n  path: prefs.jsonl\n  columns: {id: id, "
                                                             "cluster: fact}\n  validation_fraction: 0.25")
    data = load_preferences(load_train_config(path))
    assert {r.unit for r in data.validation} & {r.unit for r in data.train} == set()
    # alpha: round(0.25 × 4 facts) = 1 fact of 3 pairs; beta: max(1, round(0.5)) = 1 fact of 2 pairs
    assert data.counts(data.validation) == [3, 2] and data.counts(data.train) == [9, 2]
    assert [r.id for r in load_preferences(load_train_config(path)).validation] == [r.id for r in data.validation]
    # without a cluster column every pair is its own cluster
    plain = write_config(tmp_path, None, name="plain.yaml", data="data:\n  path: prefs.jsonl\n"
                                                                  "  validation_fraction: 0.25")
    data = load_preferences(load_train_config(plain))
    assert data.counts(data.validation) == [3, 1] and all(r.unit == r.id for r in data.validation)


def test_validation_value_of_the_split_column(tmp_path: Path) -> None:
    rows = [r | {"split": ("dev" if i % 4 == 0 else "train")} for i, r in enumerate(MAJORITY + MINORITY)]
    path = write_config(tmp_path, None, rows=rows, data="data:\n  path: prefs.jsonl\n  split_column: split\n"
                                                        "  validation_value: dev")
    data = load_preferences(load_train_config(path))
    assert len(data.validation) == 4 and len(data.train) == 12 and not data.eval


def test_new_fields_are_checked(tmp_path: Path) -> None:
    err = config_error(write_config(tmp_path, None, robust="importance"))
    assert err.field == "robust.mode" and "importance_inverse_square" in str(err) and "importance_balanced" in str(err)
    err = config_error(write_config(tmp_path, None, extra="early_stopping:\n  eval_steps: 2\n"))
    assert err.field == "early_stopping" and "needs validation rows" in str(err)
    err = config_error(write_config(tmp_path, None, optimizer="optimizer:\n  lr_scheduler: reduce_on_plateau"))
    assert err.field == "optimizer.lr_scheduler" and "early_stopping" in str(err)
    err = config_error(write_config(tmp_path, None, robust="group_dro\n  adjustment: [1.0, -1.0]"))
    assert err.field == "robust.adjustment" and ">= 0" in str(err)
    err = config_error(write_config(tmp_path, None, data="data:\n  path: prefs.jsonl\n  validation_value: dev"))
    assert err.field == "data.validation_value" and "split_column" in str(err)


def test_an_adjustment_per_group_must_match_the_groups(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    from harness.train.build import objective

    path = write_config(tmp_path, None, robust="group_dro\n  adjustment: [1.0, 2.0, 3.0]")
    cfg = load_train_config(path)
    with pytest.raises(HarnessError) as info:
        objective(cfg, load_preferences(cfg))
    assert info.value.field == "robust.adjustment" and "3 adjustments for 2 groups" in str(info.value)
    assert info.value.line == path.read_text().splitlines().index("  adjustment: [1.0, 2.0, 3.0]") + 1
    ok = load_train_config(write_config(tmp_path, None, name="ok.yaml", robust="group_dro\n  adjustment: [1.0, 0.5]"))
    assert objective(ok, load_preferences(ok)).adjustment == [1.0, 0.5]


def test_check_prints_the_ipo_collapse_warning(tmp_path: Path) -> None:
    import typer
    from typer.testing import CliRunner

    from harness.cli.train import train_command

    app = typer.Typer()
    app.command("train")(train_command)
    app.command("other")(lambda: None)
    ipo = write_config(tmp_path, None, loss="loss:\n  type: ipo\n  beta: 0.1")
    result = CliRunner().invoke(app, ["train", str(ipo), "--check"])
    assert result.exit_code == 0 and "warning: robust.step_size: η·l₀ = 25" in result.output
    dpo = write_config(tmp_path, None, name="dpo.yaml")
    assert "warning" not in CliRunner().invoke(app, ["train", str(dpo), "--check"]).output
