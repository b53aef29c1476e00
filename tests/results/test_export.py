"""Exporting runs as tables (CSV, JSON lines, Parquet) and loading them into pandas."""

import json
from pathlib import Path

import pandas as pd
import pytest

from harness.backends.base import Message, ModelInfo
from harness.core.errors import HarnessError
from harness.results.export import export_runs, load_metrics, load_samples
from harness.results.io import write_run
from harness.results.schema import (
    BehaviourState,
    Counts,
    Environment,
    GroupBreakdown,
    GroupValue,
    Metric,
    RunResult,
    Sample,
    Settings,
    TaskRecord,
    Timing,
)


def fake_run(run_id: str, model: str, acc: float, *, created: str = "2026-01-01T00:00:00", backend: str = "hf",
             limit: int | None = None) -> RunResult:
    metrics = [
        Metric(name="accuracy", value=acc, ci_low=acc - 0.1, ci_high=acc + 0.1, n=3, formula="mean_i correct",
               ci_method="bootstrap"),
        Metric(name="worst_group_accuracy", value=None, n=0, formula="min_g accuracy_g", group_key="domain",
               reason="no group of 'domain' has 2+ items"),
        Metric(name="min_group_accuracy", value=0.5, n=2, formula="min", group_key="domain", group="geo",
               tied_groups=["geo", "math"], small=True),
        Metric(name="follow_rate", value=0.25, ci_low=0.0, ci_high=0.5, n=3, formula="f", variant="authority_wrong"),
    ]
    groups = [GroupBreakdown(key="domain", min_group_size=2, worst="geo", best="geo", groups=[
        GroupValue(group="geo", items=2, value=0.5, ci_low=0.0, ci_high=1.0, n=2),
        GroupValue(group="math", items=1, value=1.0, ci_low=1.0, ci_high=1.0, n=1, small=True)])]
    states = [BehaviourState(family="authority", arm="authority_wrong", guidance="Wrong", number=4,
                             state="Sycophantic Error", count=1, value=1 / 3, ci_low=0.0, ci_high=1.0, n=3)]
    return RunResult(
        run_id=run_id, created_at=created,
        task=TaskRecord(name="tiny", version=1, file="t.yaml", config_hash="abc", config={}),
        model=ModelInfo(name=model, path="/m", source="local", backend=backend, dtype="float32",
                        device="cpu"),
        settings=Settings(seed=1, batch_size=1, limit=limit, bootstrap_resamples=10, ci_level=0.95, min_group_size=2),
        environment=Environment(harness_version="0", python="3", platform="x", packages={}, git_commit=None,
                                git_dirty=None),
        counts=Counts(items=3, samples=3, requests_unique=3, invalid=0),
        metrics=metrics, groups=groups, states=states,
        timing=Timing(total_s=1, model_load_s=0, inference_s=1, model_s=1))


def samples(model: str) -> list[Sample]:
    rows = [("q1", "geo", "B", True), ("q2", "geo", "A", False), ("q3", "math", None, False)]
    return [Sample(item_id=item, variant="original", groups={"domain": domain},
                   messages=[Message(role="system", content="Be brief."),
                             Message(role="user", content=f"Question {item}: é, \"quoted\", comma\nline two")],
                   choices=["Paris", "Lyon"], labels=["A", "B"], target="B", output=f"{model} says {pred}",
                   label_logprobs={"A": -1.5, "B": -0.25} if pred else None, predicted=pred,
                   predicted_option=None if pred is None else "AB".index(pred), correct=correct,
                   invalid=pred is None, gold_prob=0.7 if pred else None, prompt_tokens=12, output_tokens=3,
                   request_key=f"{model}-{item}")
            for item, domain, pred, correct in rows]


@pytest.fixture
def runs(tmp_path: Path) -> Path:
    root = tmp_path / "runs"
    write_run(root / "r1", fake_run("r1", "small", 0.5), samples("small"))
    write_run(root / "r2", fake_run("r2", "large", 0.75), samples("large"))
    return root


def read_back(path: Path) -> pd.DataFrame:
    if path.suffix == ".csv":
        return pd.read_csv(path)
    if path.suffix == ".jsonl":
        return pd.read_json(path, lines=True)
    return pd.read_parquet(path)


def test_load_metrics(runs: Path):
    m = load_metrics([runs])
    assert len(m) == 2 * (4 + 2 + 1)
    assert list(m.kind.unique()) == ["metric", "group", "state"]
    acc = m[(m.kind == "metric") & (m.name == "accuracy")].set_index("model")
    assert acc.loc["large", "value"] == 0.75 and acc.loc["small", "ci_high"] == pytest.approx(0.6)
    assert acc.loc["small", "formula"] == "mean_i correct" and acc.loc["small", "run_id"] == "r1"
    math_row = m[(m.kind == "group") & (m.group == "math")].iloc[0]
    assert math_row["small"] and math_row["items"] == 1 and math_row["group_key"] == "domain"
    state = m[m.kind == "state"].iloc[0]
    assert state["variant"] == "authority_wrong" and state["group"] == "4 Sycophantic Error" and state["count"] == 1
    assert pd.isna(m[m.name == "worst_group_accuracy"].value).all()
    assert (m[m.name == "worst_group_accuracy"].reason == "no group of 'domain' has 2+ items").all()
    assert (m[m.name == "min_group_accuracy"].tied_groups == "geo, math").all()


def test_load_samples(runs: Path):
    s = load_samples([runs])
    assert len(s) == 6 and set(s.run_id) == {"r1", "r2"}
    row = s[(s.model == "large") & (s.item_id == "q1")].iloc[0]
    assert row["messages"] == 'system: Be brief.\n\nuser: Question q1: é, "quoted", comma\nline two'
    assert row["groups.domain"] == "geo" and row["task"] == "tiny"
    assert (row["backend"], row["dtype"]) == ("hf", "float32")
    assert row["choices"] == ["Paris", "Lyon"] and row["labels"] == ["A", "B"] and row["tied"] == []
    assert json.loads(row["label_logprobs"]) == {"A": -1.5, "B": -0.25}
    assert bool(row["correct"]) and row["predicted_option"] == 1
    assert s.groupby("model").correct.mean().to_dict() == {"large": pytest.approx(1 / 3),
                                                           "small": pytest.approx(1 / 3)}


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
def test_export_round_trip(runs: Path, tmp_path: Path, fmt: str):
    metrics_path, samples_path = export_runs([runs], fmt, tmp_path / "out")
    assert (metrics_path.name, samples_path.name) == (f"metrics.{fmt}", f"samples.{fmt}")
    m, s = read_back(metrics_path), read_back(samples_path)
    want_m, want_s = load_metrics([runs]), load_samples([runs])
    assert list(m.columns) == list(want_m.columns) and list(s.columns) == list(want_s.columns)
    assert len(m) == len(want_m) and len(s) == len(want_s)
    pd.testing.assert_series_equal(m["value"].astype(float), want_m["value"].astype(float))
    assert m["name"].tolist() == want_m["name"].tolist()
    assert m["formula"].fillna("").tolist() == want_m["formula"].fillna("").tolist()
    assert s["messages"].tolist() == want_s["messages"].tolist()  # newlines, quotes, commas, non-ASCII survive
    assert s["correct"].astype(bool).tolist() == want_s["correct"].tolist()
    if fmt == "csv":  # no list type: JSON text
        assert [json.loads(x) for x in s["choices"]] == [["Paris", "Lyon"]] * 6
    else:  # lists stay lists (parquet reads them back as arrays)
        assert [list(x) for x in s["choices"]] == [["Paris", "Lyon"]] * 6
        assert [list(x) for x in s["tied"]] == [[]] * 6
        s = s.assign(**{c: s[c].map(list) for c in ("choices", "labels", "tied")})
    assert s["groups.domain"].tolist() == ["geo", "geo", "math"] * 2
    assert s["gold_prob"].isna().sum() == 2
    if fmt == "parquet":  # the one format that keeps types
        pd.testing.assert_frame_equal(m, want_m, check_dtype=False)
        pd.testing.assert_frame_equal(s, want_s, check_dtype=False)


def test_export_a_single_run_dir(runs: Path, tmp_path: Path):
    _, samples_path = export_runs([runs / "r2"], "csv", tmp_path / "one")
    assert set(pd.read_csv(samples_path).run_id) == {"r2"}


def test_bad_inputs(runs: Path, tmp_path: Path):
    with pytest.raises(HarnessError, match="unknown export format"):
        export_runs([runs], "xlsx", tmp_path / "out")  # type: ignore[arg-type]
    (tmp_path / "empty").mkdir()
    with pytest.raises(HarnessError, match="no runs found"):
        export_runs([tmp_path / "empty"], "csv", tmp_path / "out")
    with pytest.raises(HarnessError):
        load_metrics([tmp_path / "missing"])
    (runs / "r1" / "samples.jsonl").unlink()
    assert set(load_samples([runs]).run_id) == {"r2"}  # --latest: an incomplete run is no candidate
    with pytest.raises(HarnessError, match="samples.jsonl"):
        load_samples([runs], latest=False)
    (runs / "r2" / "results.json").write_text("{}")
    with pytest.raises(HarnessError, match="not a valid results file"):
        load_metrics([runs])


def test_csv_cells_never_start_a_formula():
    from harness.results.export import csv_safe

    df = pd.DataFrame({"output": ["=1+1", "+1", "-1", "@x", "\tx", "\rx", "ok", None], "value": [-1.5] * 8,
                       "=name": ["a"] * 8})
    safe = csv_safe(df)
    assert safe["output"].tolist()[:7] == ["'=1+1", "'+1", "'-1", "'@x", "'\tx", "'\rx", "ok"]
    assert safe["value"].tolist() == [-1.5] * 8 and list(safe.columns) == ["output", "value", "'=name"]


def test_latest_run_per_model_task_backend(tmp_path: Path):
    root = tmp_path / "runs"
    write_run(root / "old", fake_run("old", "small", 0.25, created="2026-01-01T00:00:00"), samples("small"))
    write_run(root / "new", fake_run("new", "small", 0.5, created="2026-01-02T00:00:00"), samples("small"))
    write_run(root / "limited", fake_run("limited", "small", 1.0, created="2026-01-03T00:00:00", limit=2),
              samples("small"))  # newer, but partial: the full run wins
    write_run(root / "vllm", fake_run("vllm", "small", 0.75, backend="vllm", limit=2), samples("small"))
    write_run(root / "broken", fake_run("broken", "small", 0.0, created="2026-01-04T00:00:00"), samples("small"))
    (root / "broken" / "samples.jsonl").unlink()  # unfinished: not complete, never the latest
    m = load_metrics([root])
    acc = m[(m.kind == "metric") & (m.name == "accuracy")]
    assert sorted(zip(acc.run_id, acc.backend, acc.value)) == [("new", "hf", 0.5), ("vllm", "vllm", 0.75)]
    assert set(load_samples([root]).run_id) == {"new", "vllm"}
    assert set(load_metrics([root], latest=False).run_id) == {"old", "new", "limited", "vllm", "broken"}
    with pytest.raises(HarnessError, match="missing samples.jsonl"):  # --all: every run folder, unfinished too
        export_runs([root], "csv", tmp_path / "all", latest=False)
    (root / "broken" / "results.json").unlink()
    _, samples_path = export_runs([root], "csv", tmp_path / "all", latest=False)
    assert set(pd.read_csv(samples_path).run_id) == {"old", "new", "limited", "vllm"}


def test_export_cli_latest_and_all(tmp_path: Path):
    from typer.testing import CliRunner

    from harness.cli.main import app

    root = tmp_path / "runs"
    write_run(root / "a", fake_run("a", "small", 0.25, created="2026-01-01T00:00:00"), samples("small"))
    write_run(root / "b", fake_run("b", "small", 0.5, created="2026-01-02T00:00:00"), samples("small"))
    for flag, want in ((None, {"b"}), ("--latest", {"b"}), ("--all", {"a", "b"})):
        out = tmp_path / f"out-{flag}"
        args = ["export", str(root), "-f", "parquet", "-o", str(out)] + ([flag] if flag else [])
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 0, result.output
        s = pd.read_parquet(out / "samples.parquet")
        assert set(s.run_id) == want and list(s.choices.iloc[0]) == ["Paris", "Lyon"]
