"""The statistics settings of a run: the task's `stats:` block, overridden by run options (issue 15, defect 5)."""

from __future__ import annotations

import json

from harness.config.task import load_task
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
    (backend,) = replay_backends(task, f"replay:{recorded}")
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


def test_a_class_column_replaces_the_gold_letter_as_the_class(make_task, tmp_path):
    """Issue 15 defect 9: the "class" of worst_class_accuracy is the gold letter (a position-bias
    measure) unless the task names a class column."""
    rows = [{**r, "kind": "fact" if i % 2 else "date"} for i, r in enumerate(ROWS)]
    recorded = tmp_path / "recorded.jsonl"
    recorded.write_text("".join(json.dumps({"id": f"q{i}", "output": o, "model": "m"}) + "\n"
                                for i, o in enumerate(OUTPUTS)))
    task = load_task(make_task(rows=rows, yaml_text=task_yaml(answer="answer: generate",
                                                              stats="stats:\n  class_column: kind")))
    (backend,) = replay_backends(task, f"replay:{recorded}")
    result = run_task(task, backend, RunOptions(min_group_size=1), tmp_path / "run")
    worst = result.metric("worst_class_accuracy")
    assert worst.group_key == "kind" and worst.group in ("date", "fact")
    # dates q0 q2 .. q10: right on q0 q2 q4 q6 q10 (5/6); facts q1 .. q11: right on q1 q3 q5 (3/6)
    assert worst.group == "fact" and worst.value == 0.5
    assert result.metric("balanced_accuracy").value == (5 / 6 + 3 / 6) / 2
    default, _ = replay_task(make_task, tmp_path)
    (backend,) = replay_backends(default, f"replay:{recorded}")
    worst = run_task(default, backend, RunOptions(min_group_size=1), tmp_path / "plain").metric("worst_class_accuracy")
    assert worst.group_key == "gold_label" and worst.group == "A"


def test_a_missing_class_column_is_named_with_its_line(make_task):
    import pytest

    from harness.core.errors import HarnessError
    from harness.data.items import TaskData

    task = load_task(make_task(rows=ROWS, yaml_text=task_yaml(stats="stats:\n  class_column: topic")))
    with pytest.raises(HarnessError) as info:
        TaskData(task)
    assert info.value.field == "stats.class_column" and "column 'topic' is not in the dataset" in str(info.value)
