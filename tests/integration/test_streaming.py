"""A streamed dataset is never held whole: a run's peak memory grows with the number of samples
(a few KB each, kept for the metrics), not with the size of the rows.

Measured through the real CLI on recorded outputs (`--model replay:COLUMN`, no model, so only
the pipeline's own memory is seen): rows of 50 KB each, 1,000 of them against 4,000 (50 MB
against 200 MB of data). The same 4,000 rows loaded whole show that the test can fail.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.integration
PAD = 50_000  # bytes of an unused column in every row (rows are kept whole in their items)
MiB = 1 << 20

TASK = f"""name: big_rag
type: rag
dataset:
  path: data.jsonl
  streaming: {{streaming}}
  chunk_items: 100
fields:
  id: id
  question: query
rag:
  passages: passages
  relevant: relevant
  relevant_values: [true]
prompt:
  template: {ROOT / "prompts" / "rag" / "vanilla.j2"}
answer: generate
groups: [domain]
"""

# Run the CLI as the only child of a small wrapper, which prints the child's peak resident memory.
PEAK = ("import resource, subprocess, sys; r = subprocess.run(sys.argv[1:]); "
        "print(r.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")


def peak_kib(folder, rows: int, streaming: bool) -> int:
    with (folder / "data.jsonl").open("w") as fh:
        for i in range(rows):
            fh.write(json.dumps({"id": f"r{i}", "query": f"Question {i}?", "relevant": i % 2 == 0,
                                 "passages": [f"passage {i}"], "domain": f"d{i % 5}", "notes": "x" * PAD,
                                 "recorded": "I don't know" if i % 3 else "Yes, answer is present"}) + "\n")
    (folder / "task.yaml").write_text(TASK.format(streaming=str(streaming).lower()))
    env = dict(os.environ, HF_DATASETS_CACHE=str(folder / "hf"))
    proc = subprocess.run(
        [sys.executable, "-c", PEAK, sys.executable, "-m", "harness.cli", "run", str(folder / "task.yaml"),
         "--model", "replay:recorded", "--no-cache", "--no-report", "-o", str(folder / "runs")],
        capture_output=True, text=True, cwd=ROOT, env=env, timeout=300)
    code, peak = proc.stdout.split()[-2:]
    assert code == "0", proc.stdout + proc.stderr
    samples = (next((folder / "runs").glob("*/samples.jsonl"))).read_text().count("\n")
    assert samples == rows  # nothing dropped
    return int(peak)


def test_a_streamed_dataset_is_not_held_in_memory(tmp_path):
    small, large, whole = (tmp_path / name for name in ("small", "large", "whole"))
    for folder in (small, large, whole):
        folder.mkdir()
    streamed_small = peak_kib(small, 1000, streaming=True)
    streamed_large = peak_kib(large, 4000, streaming=True)
    loaded_whole = peak_kib(whole, 4000, streaming=False)
    more_data = 3000 * PAD / 1024  # KiB
    growth = streamed_large - streamed_small
    assert growth < more_data / 3, f"150 MB more rows raised the streamed peak by {growth / 1024:.0f} MiB"
    assert loaded_whole - streamed_large > more_data / 2, "loaded whole, the rows should have shown"
