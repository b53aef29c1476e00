from harness.pipeline.estimate import Estimate
from harness.report.summary import estimate_line


def test_the_estimate_line_says_what_the_cache_answers():
    fresh = Estimate(items=3, samples=6, requests=5, cached=0, second_turns=1, prompt_tokens=1200)
    assert estimate_line("t", fresh) == \
        "t: 3 items, 6 samples, 5 distinct requests + 1 second turns, 1,200 prompt tokens"
    part = fresh.model_copy(update={"cached": 2, "prompt_tokens": 500})
    assert estimate_line("t", part).endswith("5 distinct requests + 1 second turns (2 in the cache), "
                                             "500 prompt tokens to compute")
    assert estimate_line("t", fresh.model_copy(update={"cached": 5})).endswith("(all in the cache)")
    assert estimate_line("t", fresh.model_copy(update={"prompt_tokens": None})).endswith("second turns")


def _run_with(*metrics):
    from tests.report.test_build import fake_run

    run = fake_run("r", "m", "t", 0.5)
    return run.model_copy(update={"metrics": list(metrics)})


def _table_text(runs) -> str:
    from pathlib import Path

    from rich.console import Console

    from harness.report.summary import summary_table

    console = Console(width=400, record=True)
    console.print(summary_table([(Path("x"), r) for r in runs]))
    return console.export_text()


def test_the_console_names_every_tied_worst_group_and_a_lower_small_group():
    """Issue 15 defect 5: "worst group biology" was an alphabetical pick among five tied domains."""
    from harness.results.schema import Metric

    wg = Metric(name="worst_group_accuracy", value=0.5, n=12, formula="min", group_key="domain", group="biology",
                tied_groups=["biology", "chemistry", "history"])
    low = Metric(name="min_group_accuracy", value=0.0, n=2, formula="min", group_key="domain", group="art",
                 small=True)
    text = _table_text([_run_with(Metric(name="accuracy", value=0.6, n=100, formula="f"), wg, low)])
    assert "domain=biology, chemistry, history (3 tied)" in text
    assert "domain=art (small): 0.0" in text


def test_the_console_columns_come_from_metadata_with_units():
    """Issue 14/20: labelled and formatted by each metric's metadata; detail metrics stay in the report."""
    from harness.results.schema import Metric

    text = _table_text([_run_with(
        Metric(name="accuracy", value=0.6, ci_low=0.5, ci_high=0.7, n=100, formula="f"),
        Metric(name="preference_loss", value=0.684, ci_low=0.61, ci_high=0.75, n=40, formula="dpo"),
        Metric(name="follow_rate", value=0.25, n=40, formula="f", variant="authority_wrong"),
        Metric(name="delta_p_asserted", value=0.1, n=40, formula="f", variant="authority_wrong"))])
    header = text.splitlines()[2]
    assert header.index("accuracy (%)") < header.index("follow rate (%)") < header.index("DPO loss (nats)")
    assert "60.0 [50.0, 70.0]" in text and "0.684 [0.610, 0.750]" in text and "25.0 (authority_wrong)" in text
    assert "Δp(asserted)" not in text and "68.4" not in text
