"""Kill a real run midway (SIGKILL), re-run the same command: it completes, and no request that
was finished before the kill is sent to the model again."""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.integration


def cached_count(path) -> int:
    if not path.exists():
        return 0
    try:
        with sqlite3.connect(path, timeout=5) as db:
            return db.execute("SELECT COUNT(*) FROM responses").fetchone()[0]
    except sqlite3.OperationalError:
        return 0


def harness_run(tmp_path, cache, out, *extra):
    return [sys.executable, "-m", "harness.cli", "run", str(ROOT / "tasks" / "general_knowledge.yaml"),
            "--limit", "48", "--batch-size", "2", "--cache", str(cache), "-o", str(out), "--no-report",
            "--dtype", "float32", *extra]


def test_killed_run_resumes_without_resending(tmp_path):
    cache = tmp_path / "cache.sqlite"
    proc = subprocess.Popen(harness_run(tmp_path, cache, tmp_path / "runs"), cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 300
    while cached_count(cache) < 6 and time.time() < deadline and proc.poll() is None:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    done_before = cached_count(cache)
    assert 0 < done_before < 48, "the kill should land mid-inference"
    assert not list((tmp_path / "runs").glob("*/results.json")), "a killed run must not look complete"

    again = subprocess.run(harness_run(tmp_path, cache, tmp_path / "runs"), cwd=ROOT, check=True,
                           capture_output=True, text=True)
    assert f"48 distinct requests ({done_before} in the cache), " in again.stdout.splitlines()[0]
    (result_file,) = (tmp_path / "runs").glob("*/results.json")
    result = json.loads(result_file.read_text())
    assert result["counts"]["requests_cached"] == done_before
    assert result["counts"]["items"] == 48 and cached_count(cache) == 48

    # The resumed results equal an uninterrupted run's (fresh cache).
    subprocess.run(harness_run(tmp_path, tmp_path / "fresh.sqlite", tmp_path / "clean"), cwd=ROOT, check=True,
                   capture_output=True)
    (clean_file,) = (tmp_path / "clean").glob("*/results.json")
    clean = json.loads(clean_file.read_text())
    assert clean["counts"]["requests_cached"] == 0
    assert clean["metrics"] == result["metrics"]
    # Same answers item by item. (Log-probs may differ in the last bits: the resumed run batches
    # different prompts together, and padding changes the floating-point summation order.)
    def answers(path):
        rows = [json.loads(x) for x in (path.parent / "samples.jsonl").read_text().splitlines()]
        return [(r["item_id"], r["predicted"], r["correct"]) for r in rows], rows

    (resumed, r_rows), (uninterrupted, u_rows) = answers(result_file), answers(clean_file)
    assert resumed == uninterrupted
    for a, b in zip(r_rows, u_rows):
        assert a["label_logprobs"] == pytest.approx(b["label_logprobs"], abs=1e-4)
