"""Preference pairs from OpinionQA-form survey data (SPEC.md §3.4)."""

from __future__ import annotations

import csv
import gzip
import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from harness.cli.train import opinionqa_command
from harness.core.errors import HarnessError
from harness.train.opinionqa import build_pairs, make_pair, parse_distribution, read_rows
from tests.train.helpers import SHARED_DATA

OPINIONQA = SHARED_DATA / "grpo_opinionqa" / "test_oqa.csv.gz"
FIELDS = ["qkey", "question", "options", "attribute", "group", "D_H"]
ROWS = [
    {"qkey": "Q1", "question": "Is the economy doing well?", "options": "['Yes', 'No', 'Not sure', 'Refused']",
     "attribute": "REGION", "group": "North", "D_H": "[0.2 0.5\n 0.3]"},
    {"qkey": "Q1", "question": "Is the economy doing well?", "options": "['Yes', 'No', 'Not sure', 'Refused']",
     "attribute": "REGION", "group": "South", "D_H": "[0.7 0.1 0.2]"},
    {"qkey": "Q2", "question": "Do you cook at home?", "options": "['Often', 'Rarely', 'Refused']",
     "attribute": "REGION", "group": "North", "D_H": "[0.9 0.1]"},
    {"qkey": "Q2", "question": "Do you cook at home?", "options": "['Often', 'Rarely', 'Refused']",
     "attribute": "AGE", "group": "18-29", "D_H": "[0.4 0.6]"},
    {"qkey": "Q3", "question": "Broken row?", "options": "not a list", "attribute": "AGE", "group": "18-29",
     "D_H": "[0.4 0.6]"},
]


def _write(path: Path) -> Path:
    with gzip.open(path, "wt", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=["Unnamed: 0", *FIELDS])
        writer.writeheader()
        for i, row in enumerate(ROWS):
            writer.writerow({"Unnamed: 0": i, **row})
    return path


def test_pairs_by_hand(tmp_path: Path) -> None:
    pairs = build_pairs(read_rows(_write(tmp_path / "oqa.csv.gz")), attribute="REGION", seed=3)
    assert [p["id"] for p in pairs] == ["Q1:REGION:North", "Q1:REGION:South", "Q2:REGION:North"]
    north = pairs[0]
    assert north["prompt"] == ("Opinion of people in North on: Is the economy doing well?\n"
                               "Please select the best response:\nA. Yes\nB. No\nC. Not sure")
    assert north["chosen"] == "B. No" and north["chosen_share"] == 0.5  # the group's most chosen option
    assert north["rejected"] in ("A. Yes", "C. Not sure")
    assert pairs[1]["chosen"] == "A. Yes"
    assert pairs[2]["prompt"].endswith("A. Often\nB. Rarely") and pairs[2]["rejected"] == "B. Rarely"
    assert build_pairs(read_rows(tmp_path / "oqa.csv.gz"), attribute="REGION", seed=3) == pairs  # seeded


def test_rows_that_cannot_make_a_pair_are_skipped_and_filters_are_checked(tmp_path: Path) -> None:
    rows = read_rows(_write(tmp_path / "oqa.csv.gz"))
    assert make_pair(rows[4], 0) is None
    assert [p["group"] for p in build_pairs(rows, groups=["18-29"])] == ["18-29"]
    assert len(build_pairs(rows, max_per_group=1)) == 3
    with pytest.raises(HarnessError, match="group 'West' has no rows"):
        build_pairs(rows, groups=["West"])
    with pytest.raises(HarnessError, match="attribute 'INCOME' has no rows"):
        build_pairs(rows, attribute="INCOME")
    (tmp_path / "bad.csv").write_text("a,b\n1,2\n")
    with pytest.raises(HarnessError, match="no column"):
        read_rows(tmp_path / "bad.csv")
    assert parse_distribution("[4.1e-01 5.9e-01]") == [0.41, 0.59]


def test_command_writes_a_dataset_a_config_can_train_on(tmp_path: Path) -> None:
    app = typer.Typer()
    app.command("train-opinionqa")(opinionqa_command)
    app.command("other")(lambda: None)
    out = tmp_path / "pairs.jsonl"
    result = CliRunner().invoke(app, ["train-opinionqa", str(_write(tmp_path / "oqa.csv.gz")), str(out),
                                      "--attribute", "REGION"])
    assert result.exit_code == 0, result.output
    assert "wrote 3 pairs" in result.output and "North 2, South 1" in result.output
    assert [json.loads(line)["group"] for line in out.read_text().splitlines()] == ["North", "South", "North"]
    bad = CliRunner().invoke(app, ["train-opinionqa", str(tmp_path / "oqa.csv.gz"), str(out), "--group", "West"])
    assert bad.exit_code == 2 and "field '--group'" in bad.output


@pytest.mark.skipif(not OPINIONQA.exists(), reason="../shared/data/grpo_opinionqa is absent (third-party data kept "
                                                   "beside the repo, never shipped)")
def test_real_opinionqa_political_ideology() -> None:
    rows = read_rows(OPINIONQA)
    assert len(rows) == 9168
    groups = ["Very liberal", "Liberal", "Moderate", "Conservative", "Very conservative"]
    pairs = build_pairs(rows, attribute="POLIDEOLOGY", seed=0)
    counts = {g: sum(p["group"] == g for p in pairs) for g in groups}
    assert counts == {"Very liberal": 152, "Liberal": 171, "Moderate": 147, "Conservative": 171,
                      "Very conservative": 163}  # every row of the attribute makes a pair
    for p in pairs:
        assert p["prompt"].startswith(f"Opinion of people in {p['group']} on: ")
        assert p["chosen"] != p["rejected"] and p["chosen_share"] >= p["rejected_share"]
        assert p["chosen"].split(". ", 1)[1] in p["prompt"] and p["rejected"].split(". ", 1)[1] in p["prompt"]
    # Groups disagree: on some question, two groups' most chosen options differ.
    top = {(p["qkey"], p["group"]): p["chosen"] for p in pairs}
    assert any(top.get((q, "Very liberal")) not in (None, top.get((q, "Very conservative")))
               for q, _ in top)
