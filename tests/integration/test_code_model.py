"""The embedded model on a code task with n sampled completions per prompt: each sample its own request,
drawn the same on a re-run (all from the cache), different across sample indices, executed in the sandbox."""

from __future__ import annotations

import json

import pytest

from harness.config.task import load_task
from harness.pipeline.cache import RequestCache
from harness.pipeline.runner import RunOptions, run_task
from tests.kinds.test_code import _task

pytestmark = pytest.mark.integration


def test_sampled_completions_are_per_sample_requests_cached_and_scored(tmp_path, embedded_backend):
    _task(tmp_path)
    text = (tmp_path / "t.yaml").read_text()
    text = text.replace("  solution: canonical_solution\n", "  solution: canonical_solution\n  samples: 3\n")
    text = text.replace("max_tokens: 64", "max_tokens: 24, temperature: 0.9")
    (tmp_path / "t.yaml").write_text(text)
    task = load_task(tmp_path / "t.yaml")
    cache = RequestCache(tmp_path / "cache.sqlite")
    options = RunOptions(bootstrap_resamples=50)
    first = run_task(task, embedded_backend, options, tmp_path / "a", cache=cache)
    assert first.counts.samples == 2 * 2 * 3 and first.counts.requests_unique == 12
    again = run_task(task, embedded_backend, options, tmp_path / "b", cache=cache)
    assert again.counts.requests_cached == 12  # every sample index is its own cached request

    def outputs(run: str) -> list[tuple[str, str, int, str]]:
        rows = [json.loads(x) for x in (tmp_path / run / "samples.jsonl").read_text().splitlines()]
        return [(r["item_id"], r["variant"], r["sample_index"], r["output"]) for r in rows]

    assert outputs("a") == outputs("b")
    per_prompt: dict[tuple[str, str], set[str]] = {}
    for item, variant, _, text in outputs("a"):
        per_prompt.setdefault((item, variant), set()).add(text)
    assert any(len(texts) > 1 for texts in per_prompt.values())  # temperature 0.9: the samples differ
    rows = [json.loads(x) for x in (tmp_path / "a" / "samples.jsonl").read_text().splitlines()]
    assert all(r["execution"]["verdict"] in ("passed", "failed", "syntax_error", "timeout", "crashed") for r in rows)
    assert {m.name for m in first.metrics} >= {"pass@1", "robust_pass@1", "robust_relative@1", "syntax_error_rate"}
