"""The statistics settings of a run: the task's `stats:` block, overridden by run options (issue 15, defect 5)."""

from __future__ import annotations

import json

from harness.config.spec import load_task
from harness.pipeline.recorded import replay_backends
from harness.pipeline.runner import RunOptions, run_task
from tests.conftest import task_yaml

ROWS = [{"id": f"q{i}", "domain": "big" if i < 10 else "small", "question": f"Question {i}?",
         "choices": ["w", "x", "y", "z"], "answer": "A"} for i in range(12)]
OUTPUTS = ["A"] * 7 + ["B"] * 3 + ["A", "C"]  # big: 7/10 right, small: 1/2


def replay_task(make_task, tmp_path, stats: str = ""):
    path = make_task(rows=ROWS, yaml_text=task_yaml(answer="answer: generate", stats=stats))
    recorded = tmp_path / "recorded.jsonl"
    recorded.write_text("".join(json.dumps({"id": f"q{i}", "output": o, "model": "m"}) + "\n"
                                for i, o in enumerate(OUTPUTS)))
    task = load_task(path)
    (backend,) = replay_backends(task, f"replay:{recorded}", seed=RunOptions().seed)
    return task, backend


def test_the_task_file_sets_the_statistics_and_run_options_override_it(make_task, tmp_path):
    task, backend = replay_task(make_task, tmp_path, "stats:\n  min_group_size: 2\n  bootstrap_resamples: 50\n"
                                                     "  ci_level: 0.9")
    result = run_task(task, backend, RunOptions(), tmp_path / "a")
    s = result.settings
    assert (s.min_group_size, s.bootstrap_resamples, s.ci_level) == (2, 50, 0.9)
    worst = result.metric("worst_group_accuracy")
    assert worst.group == "small" and worst.value == 0.5  # 2 items are enough here
    assert "90% Wilson" in result.metric("accuracy").ci_method
    result = run_task(task, backend, RunOptions(min_group_size=5, ci_level=0.99), tmp_path / "b")
    s = result.settings
    assert (s.min_group_size, s.bootstrap_resamples, s.ci_level) == (5, 50, 0.99)
    assert result.metric("worst_group_accuracy").group == "big"  # the small group is flagged, not crowned
    assert result.metric("min_group_accuracy").group == "small" and result.metric("min_group_accuracy").small


def test_without_a_stats_block_the_defaults_apply(make_task, tmp_path):
    task, backend = replay_task(make_task, tmp_path)
    s = run_task(task, backend, RunOptions(), tmp_path / "a").settings
    assert (s.min_group_size, s.bootstrap_resamples, s.ci_level) == (10, 1000, 0.95)
