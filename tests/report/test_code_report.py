"""A code run in the report: pass@k per perturbation, and each completion with its verdict, failing test and
output in the sample explorer, hostile text shown as text (a real headless browser when chromium is here)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from harness.backends.base import Message
from harness.report.build import arm_table, write_report
from harness.report.explorer import PromptTable, explorer_rows
from harness.results.io import write_run
from harness.results.schema import Metric, Sample
from harness.scoring.execution.sandbox import Execution, Verdict
from tests.report.test_build import PAYLOAD, fake_run

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def _sample(item: str, variant: str, passed: bool, index: int = 0) -> Sample:
    execution = Execution(verdict=Verdict.passed if passed else Verdict.failed, seconds=0.2, isolation="namespaces",
                          detail="" if passed else f"AssertionError at tests.py:2: assert candidate() == {PAYLOAD!r}",
                          stdout=PAYLOAD if not passed else "")
    return Sample(item_id=item, variant=variant, groups={}, messages=[Message(role="user", content="def f():\n")],
                  choices=[], labels=["passed"], target="passed", output="    return 1\n", label_logprobs=None,
                  predicted=execution.verdict.value, perturbation=None if variant == "original" else variant,
                  correct=passed, invalid=False, gold_prob=None, prompt_tokens=3, output_tokens=4,
                  request_key=f"{item}{variant}{index}", sample_index=index, execution=execution)


def _run(root: Path) -> Path:
    run = fake_run("code", "m", "code-task", 0.5)
    run.metrics = [Metric(name="pass@1", value=0.5, ci_low=0.0, ci_high=1.0, n=2, formula="est", variant="original"),
                   Metric(name="pass@1", value=0.0, ci_low=0.0, ci_high=0.0, n=2, formula="est", variant="typo"),
                   Metric(name="robust_pass@1", value=0.0, ci_low=0.0, ci_high=0.0, n=2, formula="RP", variant="typo"),
                   Metric(name="timeout_rate", value=0.0, ci_low=0.0, ci_high=0.0, n=2, formula="t", variant="typo")]
    samples = [_sample("x0", "original", True), _sample("x0", "original", False, 1), _sample("x0", "typo", False),
               _sample("x0", "typo", False, 1)]
    write_run(root / "code", run, samples)
    return root, run, samples


def test_the_perturbation_table_has_a_column_per_code_metric_and_the_explorer_the_execution(tmp_path):
    _, run, samples = _run(tmp_path)
    arms, columns, _ = arm_table(run)
    assert arms == ["original", "typo"] and columns == ["pass@1", "robust_pass@1", "timeout_rate"]
    rows = explorer_rows(run, samples, PromptTable())["rows"]
    assert [(r["variant"], r["sample"], r["flipped"]) for r in rows] == [
        ("original", 0, None), ("original", 1, None), ("typo", 0, True), ("typo", 1, False)]  # same sample index
    assert rows[2]["execution"].startswith("failed: AssertionError at tests.py:2") and PAYLOAD in rows[2]["execution"]


@pytest.mark.skipif(CHROMIUM is None, reason="no chromium here: `scripts/install.sh --dev` installs it")
def test_the_explorer_shows_the_failing_test_and_output_as_text(tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is installed by `--dev`")
    root, _, _ = _run(tmp_path)
    path, _ = write_report([root], root / "index.html")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(path.as_uri())
        page.locator("details.samples-box > summary").first.click()  # the samples open on demand
        box = page.locator("div.explorer[data-run=code]")
        assert box.locator(".count").text_content() == "1–4 of 4"
        assert box.locator("tbody tr td:nth-child(2)").all_text_contents() == [
            "original", "original · sample 2", "typo", "typo · sample 2"]
        execution = box.locator("tbody tr pre.execution").nth(1).text_content()  # sample 2: failed
        assert execution.startswith("failed: AssertionError at tests.py:2") and PAYLOAD in execution
        box.locator(".f-search").fill("window.pwned")  # the search reaches the program's output too
        assert box.locator(".count").text_content() == "1–3 of 3"
        assert page.locator("div.explorer img").count() == 0 and page.evaluate("window.pwned") is None
        leaderboard = page.locator("table.leaderboard tbody tr td:has-text('50.0')").first.text_content()
        assert leaderboard.strip().startswith("50.0")  # pass@1 in the leaderboard
        header = page.locator("table.leaderboard th[data-metric='pass@1']").text_content()
        assert header.startswith("pass@1")
        assert errors == []
        browser.close()
