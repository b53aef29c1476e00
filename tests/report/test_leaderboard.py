"""One row per model and task (the newest complete run), partial runs marked and unranked, superseded runs
counted the same by the page and `harness report`, columns chosen and ordered by metric metadata."""

from pathlib import Path

from typer.testing import CliRunner

from harness.backends.base import ModelInfo
from harness.cli.main import app
from harness.report.build import render_report, write_page
from harness.report.leaderboard import choose, columns, headline, task_rows
from harness.results.io import write_run
from harness.results.schema import Metric, RunResult
from tests.report.test_build import fake_run


def on(run: RunResult, backend: str = "hf", limit: int | None = None) -> RunResult:
    model = ModelInfo(**{**run.model.model_dump(), "backend": backend})
    return run.model_copy(update={"model": model, "settings": run.settings.model_copy(update={"limit": limit})})


def runs() -> list[RunResult]:
    return [on(fake_run("old", "m", "t", 0.2, "2026-01-01T00:00:00")),
            on(fake_run("vllm", "m", "t", 0.6, "2026-01-02T00:00:00"), backend="vllm"),
            on(fake_run("cut", "m", "t", 0.9, "2026-01-03T00:00:00"), limit=12),  # newest, but partial
            on(fake_run("only-partial", "p", "t", 0.95), limit=16),
            on(fake_run("b", "b", "t", 0.4))]


def test_the_newest_complete_run_stands_for_a_model_whatever_its_backend():
    shown, superseded = choose(runs())
    assert {k: r.run_id for k, r in shown.items()} == {("m", "t"): "vllm", ("p", "t"): "only-partial",
                                                      ("b", "t"): "b"}
    assert sorted((r.run_id, why) for r, why in superseded) == [("cut", "partial (--limit)"),
                                                                ("old", "other backend (hf, float32)")]


def test_partial_runs_come_after_the_ranked_ones_without_a_rank():
    shown, _ = choose(runs())
    cols, by, rows = task_rows(list(shown.values()), {})
    assert by is not None and by.name == "accuracy" and by.higher_is_better
    assert [(r.run.run_id, r.rank, r.partial) for r in rows] == [("vllm", 1, False), ("b", 2, False),
                                                                 ("only-partial", None, True)]
    html = render_report(runs())
    row = html[html.index('data-run="only-partial"'):]
    assert row.startswith('data-run="only-partial" class="partial"') and '<span class="tag partial"' in row[:600]
    assert "5 run(s) read: 3 shown (1 partial), 2 superseded" in html
    assert html.count("<code>old</code>") == 1 and "other backend (hf, float32)" in html  # listed, reachable


def test_report_command_says_what_the_page_says(tmp_path: Path):
    for run in runs():
        write_run(tmp_path / run.run_id, run, [])
    page = write_page([tmp_path], tmp_path / "r.html")
    assert (page.runs, page.shown, page.superseded, page.partial) == (5, 3, 2, 1)
    out = CliRunner().invoke(app, ["report", str(tmp_path), "-o", str(tmp_path / "r.html")])
    assert out.exit_code == 0, out.output
    assert "5 runs read: 3 shown, 1 of them partial (--limit), 2 superseded" in " ".join(out.output.split())
    assert "5 run(s) read: 3 shown (1 partial), 2 superseded" in (tmp_path / "r.html").read_text()


def test_columns_come_from_metadata_in_declaration_order():
    run = fake_run("r", "m", "t", 0.5)
    run.metrics += [Metric(name="preference_loss", value=0.7, n=4, formula="f"),
                    Metric(name="follow_rate", value=0.3, n=4, formula="f", variant="authority_wrong"),
                    Metric(name="my_plugin_score", value=3.0, n=4, formula="sum of x", unit="count",
                           higher_is_better=True)]
    cols = columns([headline(run, "authority_wrong")])
    assert [c.name for c in cols] == ["accuracy", "worst_group_accuracy", "follow_rate", "preference_loss",
                                      "my_plugin_score"]
    assert [c.header for c in cols][-2:] == ["DPO loss (nats)", "my plugin score (n)"]
    assert cols[2].description == "share of answers that took the asserted wrong option (lower is better)"
    assert cols[-1].description == "sum of x (higher is better)"
