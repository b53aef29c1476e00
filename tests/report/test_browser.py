"""The report in a real headless browser (Debian's chromium through Playwright): it renders,
sorts, filters samples, compares two models, and hostile text stays inert (page state, not grep)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from harness.backends.base import Message
from harness.report.build import write_report
from harness.results.io import write_run
from harness.results.schema import Metric, Sample
from tests.report.test_build import PAYLOAD, fake_run

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no chromium here: `scripts/install.sh --dev` installs it")


def samples(model_correct: list[bool], payload_at: int | None = None) -> list[Sample]:
    out = []
    for i, right in enumerate(model_correct):
        text = PAYLOAD if i == payload_at else f"Question {i}?"
        out.append(Sample(item_id=f"q{i}", variant="original", groups={"domain": "g1" if i % 2 else PAYLOAD},
                          messages=[Message(role="user", content=text)], choices=["a", "b"], labels=["A", "B"],
                          target="A", output=PAYLOAD if i == payload_at else f"The answer is {'A' if right else 'B'}",
                          label_logprobs=None, predicted="A" if right else "B", predicted_option=0 if right else 1,
                          correct=right, invalid=False, gold_prob=None, prompt_tokens=3, output_tokens=4,
                          request_key=f"k{i}"))
    return out


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("report")
    a_right = [True, True, False, True, False, True, True, True, False, True, True, True]
    b_right = [True, False, False, False, False, True, False, True, False, False, True, False]
    for run_id, model, right, acc in (("ra", "model-a", a_right, 0.75), ("rb", PAYLOAD, b_right, 0.33),
                                      ("rc", "model-c", a_right, 0.75)):
        run = fake_run(run_id, model, "task-1" if run_id != "rc" else "task-2", acc)
        run.metrics.append(Metric(name="invalid_rate", value=0.0, ci_low=0.0, ci_high=0.0, n=12, formula="i"))
        write_run(root / run_id, run, samples(right, payload_at=3))
    path, _ = write_report([root], root / "index.html")
    return path


@pytest.fixture(scope="module")
def page(report):
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is installed by `--dev`")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("dialog", lambda d: errors.append("dialog: " + d.message))
        page.goto(report.as_uri())
        page.wait_for_load_state("load")
        page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
        page.errors = errors  # type: ignore[attr-defined]
        yield page
        browser.close()


def leaderboard_models(page) -> list[str]:
    """Model names of the visible leaderboard rows (every task's table, in page order)."""
    return page.eval_on_selector_all("details.board:not([hidden]) table.leaderboard tbody tr",
                                     "rows => rows.map(r => r.cells[1].querySelector('a').textContent.trim())")


def test_renders_without_script_errors(page):
    assert page.title() == "harness leaderboard"
    assert page.errors == []
    assert len(leaderboard_models(page)) == 3


def test_sorting_by_accuracy(page):
    page.select_option("#task-filter", "task-1")
    assert leaderboard_models(page) == ["model-a", PAYLOAD]  # ranked by accuracy, higher first
    header = page.locator("details.board[data-task=task-1] th", has_text="accuracy").first
    header.click()
    assert leaderboard_models(page) == [PAYLOAD, "model-a"]  # the 0.33 model first, its name shown as text
    header.click()
    assert leaderboard_models(page) == ["model-a", PAYLOAD]
    page.select_option("#task-filter", "")


def test_task_filter(page):
    page.select_option("#task-filter", "task-2")
    assert leaderboard_models(page) == ["model-c"]
    page.select_option("#task-filter", "")
    assert len(leaderboard_models(page)) == 3


def test_sample_explorer_filters(page):
    box = page.locator("div.explorer[data-run=ra]")
    assert box.locator(".count").text_content() == "1–12 of 12"
    box.locator(".f-wrong").check()
    assert box.locator(".count").text_content() == "1–3 of 3"
    assert set(box.locator("td.score").all_text_contents()) == {"✗"}
    box.locator(".f-wrong").uncheck()
    box.locator(".f-group").select_option("domain=g1")
    assert box.locator(".count").text_content() == "1–6 of 6"
    box.locator(".f-group").select_option("")
    box.locator(".f-search").fill("question 1")
    assert box.locator("tbody tr").count() == 3  # q1, q10, q11


def test_hostile_text_executes_nothing(page):
    assert page.evaluate("window.pwned") is None
    box = page.locator("div.explorer[data-run=rb]")
    box.locator(".f-search").fill("pwned")
    assert box.locator("tbody tr").count() == 1
    cell_text = box.locator("tbody tr pre").first.text_content()
    assert cell_text == PAYLOAD  # shown as text ...
    assert page.locator("div.explorer img").count() == 0  # ... and never parsed into elements
    assert page.evaluate("window.pwned") is None
    assert page.errors == []


def test_comparison_view_shows_the_paired_difference(page):
    box = page.locator("#compare-box")
    box.locator(".c-task").select_option("task-1")
    box.locator(".c-a").select_option(label="model-a")
    box.locator(".c-b").select_option(index=0)  # the model whose name is a payload (sorted first)
    text = box.locator(".c-result").text_content()
    # a right on 9 of 12, b on 4 of 12, b never right where a is wrong: McNemar on (0, 5) discordant pairs
    assert "accuracy A 75.0, B 33.3; difference B − A = -41.7 [" in text and "12 samples, 5 where" in text
    assert "p = 0.0625" in text
    assert box.locator(".c-rows tbody tr").count() == 5
    assert set(box.locator(".c-rows tbody tr td:last-child").all_text_contents()) == {"A"}
    box.locator(".c-a").select_option(index=0)
    box.locator(".c-b").select_option(label="model-a")
    assert "difference B − A = 41.7" in box.locator(".c-result").text_content()
    assert page.evaluate("window.pwned") is None

