"""Failures of the world, through the real CLI and the real model: one line, exit 2, nothing
presented as complete."""

from __future__ import annotations

import json
import resource
import signal
import subprocess
import sys

import pytest

from tests.conftest import ROOT, ROWS, task_yaml

pytestmark = pytest.mark.integration


def write_task(tmp_path, rows):
    (tmp_path / "data.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (tmp_path / "task.yaml").write_text(task_yaml())
    return tmp_path / "task.yaml"


def harness(*args, preexec=None):
    return subprocess.run([sys.executable, "-m", "harness.cli", *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=300, preexec_fn=preexec)


def one_line_error(proc) -> str:
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = [x for x in proc.stderr.strip().splitlines() if x.startswith("harness: error")]
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    return lines[0]


def test_prompt_longer_than_the_context_is_refused_not_truncated(tmp_path):
    rows = [dict(ROWS[0], question="why " * 9000)] + ROWS[1:]
    proc = harness("run", str(write_task(tmp_path, rows)), "--no-cache", "--no-report", "-o", str(tmp_path / "runs"))
    line = one_line_error(proc)
    assert "does not fit the model's context of 8192 tokens" in line
    assert not list((tmp_path / "runs").glob("*/results.json"))


def test_full_disk_while_writing_results(tmp_path):
    def small_files():  # every file this process writes is capped: a disk that fills up
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (1500, 1500))

    proc = harness("run", str(write_task(tmp_path, ROWS)), "--no-cache", "--no-report", "-o", str(tmp_path / "runs"),
                   preexec=small_files)
    line = one_line_error(proc)
    assert "samples.jsonl: cannot write (File too large)" in line
    assert not list((tmp_path / "runs").glob("*/results.json"))  # no run presented as complete
    assert not list((tmp_path / "runs").glob("*/.*.tmp"))  # and no half-written file left behind


def test_a_run_says_what_it_will_ask_before_it_starts(tmp_path):
    proc = harness("run", str(write_task(tmp_path, ROWS)), "--no-cache", "--no-report", "-o", str(tmp_path / "runs"))
    assert proc.returncode == 0, proc.stderr
    first = proc.stdout.splitlines()[0]
    assert first.startswith("tiny: 3 items, 3 samples, 3 distinct requests, ") and first.endswith(" prompt tokens")
