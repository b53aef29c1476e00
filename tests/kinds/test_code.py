"""`type: code`: items with their released perturbed versions, n samples per prompt, replay of each
variant's reference, the sandboxed scorer and the pass@k family, through the real pipeline."""

from __future__ import annotations

import json

import pytest

from harness.config.task import load_task
from harness.core.errors import HarnessError
from harness.data.items import TaskData, load_items
from harness.pipeline.plan import planned_chunks
from harness.pipeline.recorded import replay_backends
from harness.pipeline.runner import RunOptions, run_task
from harness.variants.build import make_variants
from tests.conftest import ROOT, SHARED_DATA, needs_shared_data

OPTIONS = RunOptions(bootstrap_resamples=100)
PROBLEMS = [
    {"task_id": "P/0", "level": "easy", "entry_point": "add_one",
     "prompt": 'def add_one(x):\n    """Return x plus one.\n    >>> add_one(1)\n    2\n    """\n',
     "canonical_solution": "    return x + 1\n", "wrong": "    return x\n",
     "test": "def check(candidate):\n    assert candidate(1) == 2\n    assert candidate(-1) == 0\n"},
    {"task_id": "P/1", "level": "hard", "entry_point": "fact",
     "prompt": 'def fact(n):\n    """Factorial of n.\n    >>> fact(3)\n    6\n    """\n    if n == 0:\n',
     "canonical_solution": "        return 1\n    return n * fact(n - 1)\n",
     "wrong": "        return 0\n    return 0\n",
     "test": "def check(candidate):\n    assert candidate(4) == 24\n"},
]
RENAMED = [  # a released perturbed set: P/1 renamed (its recursive reference must follow), and partial code
    {**PROBLEMS[0], "prompt": PROBLEMS[0]["prompt"].replace("Return", "RETURN")},
    {**PROBLEMS[1], "entry_point": "factOf", "prompt": PROBLEMS[1]["prompt"].replace("fact", "factOf")},
]


def _task(tmp_path, extra: str = "", rows=None, perturbed=None) -> object:
    (tmp_path / "data.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows or PROBLEMS))
    (tmp_path / "renamed.jsonl").write_text("".join(json.dumps(r) + "\n" for r in perturbed or RENAMED))
    (tmp_path / "t.yaml").write_text(f"""name: tiny_code
type: code
dataset: {{path: data.jsonl}}
fields: {{id: task_id, question: prompt}}
groups: [level]
code:
  tests: test
  entry_point: entry_point
  solution: canonical_solution
  perturbed_sets:
    - {{name: renamed, path: renamed.jsonl, group: function_name}}
  execution: {{wall_seconds: 30}}
prompt: {{template: {ROOT / 'prompts' / 'code' / 'complete.j2'}, chat_template: none}}
generation: {{max_tokens: 64, stop: ["\\ndef "]}}
{extra}""")
    return load_task(tmp_path / "t.yaml")


def _metric(result, name, variant=None, group=None):
    return next(m for m in result.metrics if m.name == name and m.variant == variant and m.group == group)


def test_items_carry_every_version_and_variants_every_sample(tmp_path):
    task = _task(tmp_path, "perturbations:\n  variants:\n    - {name: typos, steps: [{kind: keyboard_typo, "
                           "rate: 0.5}], repeats: 2}\n").model_copy()
    task = task.model_copy(update={"spec": task.spec.model_copy(update={
        "code": task.spec.code.model_copy(update={"samples": 3}),
        "generation": task.spec.generation.model_copy(update={"temperature": 0.8})})})
    items = load_items(task)
    assert set(items[1].problems) == {"original", "renamed"}
    assert items[1].problems["renamed"].solution == "        return 1\n    return n * factOf(n - 1)\n"
    variants = make_variants(task, items)
    names = [(v.name, v.sample_index) for v in variants if v.item.id == "P/1"]
    assert names == [(n, i) for n in ("original", "renamed", "typos#1", "typos#2") for i in range(3)]
    typo = next(v for v in variants if v.name == "typos#1")
    assert typo.question != PROBLEMS[0]["prompt"] and ">>> add_one(1)\n    2\n" in typo.question
    chunk = next(planned_chunks(task, TaskData(task), seed=5))
    seeds = {(v.name, v.sample_index): r.sampling.seed for v, r in zip(chunk.variants, chunk.first.requests)}
    assert seeds[("original", 0)] == 5 and len({seeds[("original", i)] for i in range(3)}) == 3
    assert len(chunk.first.unique) == len(chunk.first.requests)  # sample i of n is a request of its own


def test_replaying_the_references_passes_everywhere_and_a_wrong_solution_nowhere(tmp_path):
    task = _task(tmp_path)
    (good,) = replay_backends(task, "replay:canonical_solution")
    result = run_task(task, good, OPTIONS, tmp_path / "good")
    for variant in ("original", "renamed"):
        assert _metric(result, "pass@1", variant).value == 1.0
    assert _metric(result, "robust_pass@1", "renamed").value == 1.0
    assert _metric(result, "robust_drop@1", "renamed").value == 0.0
    (bad,) = replay_backends(task, "replay:wrong")
    result = run_task(task, bad, OPTIONS, tmp_path / "bad")
    assert _metric(result, "pass@1", "original").value == 0.0
    assert _metric(result, "robust_pass@1", "renamed").value == 0.0
    assert _metric(result, "robust_drop@1", "renamed").value is None  # nothing passed nominally
    samples = [json.loads(line) for line in (tmp_path / "bad" / "samples.jsonl").read_text().splitlines()]
    first = samples[0]
    assert first["predicted"] == "failed" and first["execution"]["verdict"] == "failed"
    assert first["execution"]["detail"] == "AssertionError at tests.py:2: assert candidate(1) == 2"
    breakdown = next(g for g in result.groups if g.metric == "pass@1" and g.variant == "original")
    assert {g.group for g in breakdown.groups} == {"easy", "hard"}


def test_code_tasks_refuse_what_cannot_be_measured(tmp_path):
    with pytest.raises(HarnessError, match="samples at temperature 0"):
        load_task(_write(tmp_path, "samples: 4"))
    with pytest.raises(HarnessError, match="every k must be at most samples"):
        load_task(_write(tmp_path, "samples: 2\n  k: [5]"))
    with pytest.raises(HarnessError, match="'option_shuffle' does not rewrite text"):
        _task(tmp_path, "perturbations:\n  variants:\n    - {name: s, steps: [{kind: option_shuffle}]}\n")
    missing = load_task(_write(tmp_path, "", "nope.jsonl"))  # a data file: checked when the data loads
    with pytest.raises(HarnessError, match=r"t.yaml:\d+: field 'code.perturbed_sets.0.path': file not found: nope"):
        TaskData(missing)


def test_a_problem_missing_from_a_perturbed_set_names_it(tmp_path):
    task = _task(tmp_path, perturbed=RENAMED[:1])
    with pytest.raises(HarnessError, match=r"row 2: task id 'P/1' is not in this perturbed set"):
        load_items(task)


def _write(tmp_path, code_extra: str, perturbed: str = "renamed.jsonl"):
    _task(tmp_path)
    text = (tmp_path / "t.yaml").read_text().replace("  solution: canonical_solution\n",
                                                     f"  solution: canonical_solution\n  {code_extra}\n")
    (tmp_path / "t.yaml").write_text(text.replace("path: renamed.jsonl", f"path: {perturbed}"))
    return tmp_path / "t.yaml"


@needs_shared_data("recode")
@pytest.mark.integration
def test_every_humaneval_reference_passes_nominal_and_under_every_released_perturbation(tmp_path):
    text = (ROOT / "tasks" / "recode_humaneval.yaml").read_text().replace("../../shared/data", str(SHARED_DATA))
    (tmp_path / "t.yaml").write_text(text.replace("../prompts", str(ROOT / "prompts")))
    task = load_task(tmp_path / "t.yaml")
    (backend,) = replay_backends(task, "replay:canonical_solution")
    result = run_task(task, backend, OPTIONS, tmp_path / "run")
    assert result.counts.items == 164 and result.counts.samples == 164 * 8
    failing = {(m.variant, m.value) for m in result.metrics if m.name == "pass@1" and m.value != 1.0}
    assert not failing
    assert {m.variant for m in result.metrics if m.name == "pass@1"} == {
        "original", "original_partial", "ButterFingersPerturbation", "SynonymSubstitution", "ChangeCharCase",
        "FuncRenameCamelCase", "new_lines", "tab_indent"}
