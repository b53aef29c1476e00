"""`harness run --dry-run`: the prompts and counts a run would ask, no weights loaded."""

import subprocess
import sys

from harness.config.task import load_task
from harness.pipeline.dryrun import dry_run, load_tokenizer
from tests.conftest import ROOT


def streamed(task, chunk_items):
    dataset = task.spec.dataset.model_copy(update={"streaming": True, "chunk_items": chunk_items})
    return task.model_copy(update={"spec": task.spec.model_copy(update={"dataset": dataset})})


def test_dry_run_counts_what_a_run_asks():
    task = load_task(ROOT / "tasks" / "sycophancy.yaml")
    d = dry_run(task, None, examples=1, limit=6)
    arms = len(task.spec.persuasion.arms)
    assert d.items == 6 and d.samples == 6 * arms
    assert [v.name for v in d.variants] == list(task.spec.persuasion.arms)
    assert all(v.samples == 6 and len(v.examples) == 1 for v in d.variants)
    assert d.second_turns == 6 * sum(a.startswith("are_you_sure") for a in task.spec.persuasion.arms)
    assert d.prompt_tokens is None and d.prompt_chars > 0
    assert "Answer" in d.variants[0].examples[0]


def test_a_streamed_dataset_dry_runs_to_the_same_counts():
    task = load_task(ROOT / "tasks" / "general_knowledge.yaml")
    tokenizer = load_tokenizer(None)  # the embedded model's tokenizer; no weights
    whole = dry_run(task, tokenizer, limit=30)
    chunked = dry_run(streamed(task, 7), tokenizer, limit=30)
    assert whole == chunked
    assert whole.items == 30 and whole.prompt_tokens > whole.requests_unique * 20


def test_the_cli_dry_run_loads_no_weights():
    proc = subprocess.run([sys.executable, "-m", "harness.cli", "run", str(ROOT / "tasks" / "general_knowledge.yaml"),
                           "--dry-run", "--limit", "4"], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert proc.returncode == 0, proc.stderr
    out = " ".join(proc.stdout.split())  # rich wraps long lines
    assert "general_knowledge: 4 items, 1 variants, 4 samples, 4 distinct requests, " in out
    assert "What is the capital of France?" in out and out.endswith("; no model loaded")
