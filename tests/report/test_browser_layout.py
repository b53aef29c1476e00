"""The report's layout and units in a real browser at 1440×900: every leaderboard column on screen, values in
their metric's unit, partial runs marked and unranked, the compare view's metric switch."""

from __future__ import annotations

import pytest

from harness.report.build import write_report
from harness.results.io import write_run
from harness.results.schema import Metric
from tests.report.test_browser import CHROMIUM
from tests.report.test_build import fake_run

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no chromium here: `scripts/install.sh --dev` installs it")


NOMIRACL_METRICS = ("accuracy", "invalid_rate", "worst_group_accuracy", "worst_group_gap", "hallucination_rate",
                    "error_rate", "invalid_rate_non_relevant", "invalid_rate_relevant", "accuracy_non_relevant",
                    "accuracy_relevant", "hallucination_rate_official", "error_rate_official")


@pytest.fixture(scope="module")
def wide(tmp_path_factory):
    """A page with the widest task (NoMIRACL's columns, a long model name), a partial run, a loss, and two
    persuasion runs to compare, at 1440×900."""
    from tests.report.test_compare import persuasion

    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is installed by `--dev`")
    root = tmp_path_factory.mktemp("wide")
    for k, model in enumerate(("Mixtral-8x7B-Instruct-v0.1-with-a-long-name", "gpt-4-azure", "partial-model")):
        run = fake_run(f"n{k}", model, "nomiracl_en", 0.5)
        run.metrics = [Metric(name=n, value=0.123 + k / 10, ci_low=0.1, ci_high=0.55, n=250, formula="f",
                              group_key="subset" if "worst" in n else None, group="non_relevant" if "worst" in n
                              else None) for n in NOMIRACL_METRICS]
        if model == "partial-model":
            run = run.model_copy(update={"settings": run.settings.model_copy(update={"limit": 12})})
        write_run(root / run.run_id, run, [])
    prefs = fake_run("prefs", "policy", "prefs", 0.6)
    prefs.metrics.append(Metric(name="preference_loss", value=0.684, ci_low=0.61, ci_high=0.75, n=40, formula="dpo"))
    write_run(root / "prefs", prefs, [])
    persuasion(root, "ma", "AAAAAAAAAB", "AAAAAAABBB")
    persuasion(root, "mb", "AAAAAABBBB", "BBBBBBBBBB")
    path, _ = write_report([root], root / "index.html")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1440, "height": 900})
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(path.as_uri())
        page.errors = errors  # type: ignore[attr-defined]
        yield page
        browser.close()


def visible_header_edges(page) -> list[float]:
    return page.eval_on_selector_all("table.leaderboard th", """ths => ths.filter(t => t.offsetParent !== null)
                                     .map(t => t.getBoundingClientRect().right)""")


def test_every_leaderboard_column_header_is_within_1440_px(wide):
    edges = visible_header_edges(wide)
    assert len(edges) >= 3 + 4 + 3 + 3 and max(edges) <= 1440  # the headline columns of every task
    assert wide.evaluate("document.documentElement.scrollWidth") <= 1440  # no horizontal scrolling either
    sticky = wide.eval_on_selector("table.leaderboard th", "th => getComputedStyle(th).position")
    assert sticky == "sticky" and wide.errors == []
    board = wide.locator("details.board[data-task=nomiracl_en]")
    assert board.locator("th:visible").count() == 3 + 4  # rank, model, items; accuracy, worst group, hall., error
    board.locator("input.all-columns").check()  # the detail columns: NoMIRACL's 10 metric columns still fit
    assert board.locator("th:visible").count() == 3 + 10 and max(visible_header_edges(wide)) <= 1440
    board.locator("input.all-columns").uncheck()


def test_percent_and_non_percent_cells(wide):
    def cell(task: str, metric: str) -> str:
        return wide.eval_on_selector(
            f"details.board[data-task={task}] table", f"""t => {{
              const col = [...t.tHead.rows[0].cells].findIndex(c => c.dataset.metric === "{metric}");
              return t.tBodies[0].rows[0].cells[col].textContent.trim(); }}""")
    assert cell("prefs", "preference_loss").startswith("0.684 [0.610, 0.750]")
    assert cell("prefs", "accuracy").startswith("60.0 [50.0, 70.0]")
    assert cell("nomiracl_en", "worst_group_gap").startswith("+22.3 [+10.0, +55.0]")  # signed points; 0.223 ranks first
    headers = wide.locator("details.board[data-task=prefs] th").all_text_contents()
    assert "DPO loss (nats)" in headers and "accuracy (%)" in headers


def test_partial_run_is_greyed_marked_and_unranked(wide):
    row = wide.locator("tr[data-run=n2]")
    assert row.get_attribute("class") == "partial" and row.locator(".tag.partial").text_content() == "partial"
    assert row.locator("td").first.text_content() == "–"
    ranks = wide.locator("details.board[data-task=nomiracl_en] tbody tr td:first-child").all_text_contents()
    assert ranks == ["1", "2", "–"]  # the partial run last although its numbers are highest
    colour = wide.eval_on_selector("tr[data-run=n2] td.model", "td => getComputedStyle(td).color")
    assert colour == "rgb(138, 143, 156)"


def test_compare_metric_switch(wide):
    box = wide.locator("#compare-box")
    box.locator(".c-task").select_option("syc")
    options = box.locator(".c-metric option").all_text_contents()
    assert options == ["accuracy on variant neutral", "follow_rate on arm authority_wrong",
                       "flip_rate on 1 variant(s) pooled, each against neutral"]
    assert box.locator(".c-result").text_content().startswith("accuracy A 90.0, B 60.0; difference B − A = -30.0")
    box.locator(".c-metric").select_option("follow_rate on arm authority_wrong")
    text = box.locator(".c-result").text_content()
    assert text.startswith("follow_rate A 30.0, B 100.0; difference B − A = 70.0") and "10 samples, 7 where" in text
    assert box.locator(".c-rows tbody tr").count() == 7
    box.locator(".c-metric").select_option(index=2)
    assert box.locator(".c-result").text_content().startswith("flip_rate A 20.0, B 60.0")
