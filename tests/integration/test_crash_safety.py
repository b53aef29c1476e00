"""SIGKILL a real run at every stage (harness/core/faults.py), re-run the same command: it finishes
with the results of an uninterrupted run, no finished request is asked again, and a file being
written when the process died never replaces the good one."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.integration

LIMIT, BATCH = 12, 4


def run(tmp_path, out, *, kill_at=None, report=False):
    env = dict(os.environ)
    env.pop("HARNESS_KILL_AT", None)
    if kill_at:
        env["HARNESS_KILL_AT"] = kill_at
    cmd = [sys.executable, "-m", "harness.cli", "run", str(ROOT / "tasks" / "general_knowledge.yaml"),
           "--limit", str(LIMIT), "--batch-size", str(BATCH), "--dtype", "float32",
           "--cache", str(tmp_path / "cache.sqlite"), "-o", str(out), "--report", str(tmp_path / "index.html")]
    if not report:
        cmd.append("--no-report")
    return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


def finished(out):
    (results,) = out.glob("*/results.json")
    data = json.loads(results.read_text())
    rows = [json.loads(x) for x in (results.parent / "samples.jsonl").read_text().splitlines()]
    return data, [(r["item_id"], r["predicted"], r["correct"]) for r in rows]


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("clean")
    assert run(tmp, tmp / "runs").returncode == 0
    return finished(tmp / "runs")


def cached_rows(cache) -> int:
    import sqlite3

    with sqlite3.connect(cache) as db:
        return db.execute("SELECT COUNT(*) FROM responses").fetchone()[0]


# Batches are cut where neighbouring prompts share least (prefix sharing), so two committed batches hold
# between 2 and 2 * BATCH requests: the test reads how many the cache holds after the kill.
@pytest.mark.parametrize(("point", "cached_before"), [
    ("dataset_loaded", (0, 0)),                 # nothing asked yet
    ("batch_committed@2", (2, 2 * BATCH)),      # two batches answered and committed
    ("before_rename:samples.jsonl", (LIMIT, LIMIT)),
    ("before_rename:results.json", (LIMIT, LIMIT)),
])
def test_kill_then_rerun_completes_identically(tmp_path, clean, point, cached_before):
    killed = run(tmp_path, tmp_path / "runs", kill_at=point)
    assert killed.returncode == -9, killed.stderr
    assert not list((tmp_path / "runs").glob("*/results.json")), "a killed run must not look complete"
    assert not list((tmp_path / "runs").glob("*/.*.tmp")) or point.startswith("before_rename")
    committed = cached_rows(tmp_path / "cache.sqlite") if (tmp_path / "cache.sqlite").exists() else 0
    assert cached_before[0] <= committed <= cached_before[1]
    again = run(tmp_path, tmp_path / "runs2")
    assert again.returncode == 0, again.stderr
    data, answers = finished(tmp_path / "runs2")
    assert data["counts"]["requests_cached"] == committed  # finished requests are never asked again
    assert answers == clean[1]
    assert data["metrics"] == clean[0]["metrics"]


def test_kill_while_writing_the_report_keeps_the_old_one(tmp_path):
    assert run(tmp_path, tmp_path / "runs", report=True).returncode == 0
    before = (tmp_path / "index.html").read_text()
    killed = run(tmp_path, tmp_path / "runs", kill_at="before_rename:index.html", report=True)
    assert killed.returncode == -9
    assert (tmp_path / "index.html").read_text() == before  # the half-made report never replaced it
    assert len(list((tmp_path / "runs").glob("*/results.json"))) == 2  # the second run itself completed
