"""Every metric is shown in its unit: rates in percent, differences of rates in signed points, a loss,
a ratio and Cohen's h as plain numbers (issue 20: a DPO loss of 0.684 read "68.4")."""

from harness.report.build import render_report
from harness.report.format import header, number, unit_of, with_ci
from harness.results.schema import Metric
from tests.report.test_build import fake_run


def test_numbers_follow_the_unit():
    assert number(0.684, "loss") == "0.684" and number(0.043, "effect_size") == "+0.043"
    assert number(-0.11, "effect_size") == "-0.110" and number(0.125, "ratio") == "0.125"
    assert number(0.5, "rate") == "50.0" and number(0.25, "points") == "+25.0" and number(12, "count") == "12"
    assert number(None, "rate") == "–"


def test_declared_units_win_and_undeclared_metrics_keep_their_recorded_unit():
    assert unit_of("preference_loss") == "loss" and unit_of("cohens_h") == "effect_size"
    assert unit_of(Metric(name="plugin_metric", value=1.0, n=1, formula="f", unit="count")) == "count"
    assert unit_of(Metric(name="plugin_metric", value=1.0, n=1, formula="f")) == "number"
    assert header("accuracy") == "accuracy (%)" and header("preference_loss") == "DPO loss (nats)"
    assert header("pass@10", "rate") == "pass@10 (%)"
    m = Metric(name="preference_loss", value=0.684, ci_low=0.61, ci_high=0.75, n=40, formula="f")
    assert with_ci(m) == "0.684 [0.610, 0.750]"


def test_the_page_shows_a_loss_and_an_effect_size_as_numbers_not_percentages():
    run = fake_run("r1", "m", "prefs", 0.5)
    run.metrics += [Metric(name="preference_loss", value=0.684, ci_low=0.6, ci_high=0.7, n=40, formula="dpo"),
                    Metric(name="cohens_h", value=0.043, n=40, formula="h")]
    html = render_report([run])
    board = html[html.index('class="sortable leaderboard"'):html.index("</table>")]
    assert ">DPO loss (nats)</th>" in board and ">0.684<" in board and "68.4" not in board
    assert ">Cohen&#39;s h (h)</th>" in board and "+0.043" in board and "4.3" not in board
    assert ">accuracy (%)</th>" in board and ">50.0<" in board
    assert "Values are percentages" not in html
