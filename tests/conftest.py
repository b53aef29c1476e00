"""Shared fixtures: paths, a task-file writer, and the real embedded model (session-scoped)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from harness.backends.base import Message, Request
from harness.config.paths import ENV

ROOT = Path(__file__).resolve().parent.parent
# beside the checkout; HARNESS_SHARED_DATA points elsewhere (a git worktree lives one folder deeper)
SHARED_DATA = Path(os.environ.get("HARNESS_SHARED_DATA", ROOT.parent / "shared" / "data"))
PROMPT = ROOT / "prompts" / "mc" / "question.j2"

ROWS = [
    {"id": "q1", "domain": "geo", "question": "Capital of France?", "choices": ["Berlin", "Paris", "Rome", "Madrid"],
     "answer": "B"},
    {"id": "q2", "domain": "geo", "question": "Capital of Italy?", "choices": ["Rome", "Paris", "Oslo", "Bern"],
     "answer": "A"},
    {"id": "q3", "domain": "math", "question": "What is 2 + 2?", "choices": ["3", "5", "4", "22"], "answer": "C"},
]


# The built-in tasks that read third-party data beside the repo (tasks/parrot.yaml, tasks/nomiracl.yaml) name
# files outside their folder: the test suite allows that folder, as a user would (harness/config/paths.py).
os.environ[ENV] = os.pathsep.join(filter(None, [os.environ.get(ENV), str(SHARED_DATA)]))
# Option-label requests on which the labels fall outside the model's top 20 next tokens (letters are not what comes
# next): a top-k read floors them (issue 22).
OFF_LABEL = [Request(messages=(Message(role="user", content=text),), generate=False, candidates=("A", "B", "C", "D"),
                     chat_template=mode)
             for text in ("Count from one to ten in words.", "Write the word 'ocean' five times.")
             for mode in ("auto", "none")]


def task_yaml(data_file: str = "data.jsonl", **overrides: str) -> str:
    parts = {
        "name": "name: tiny",
        "type": "type: multiple_choice",
        "dataset": f"dataset:\n  path: {data_file}",
        "fields": "fields:\n  id: id\n  question: question",
        "choices": "choices:\n  field: choices",
        "target": "target:\n  field: answer",
        "prompt": f"prompt:\n  template: {PROMPT}",
        "groups": "groups: [domain]",
    }
    parts.update(overrides)
    return "\n".join(v for v in parts.values() if v) + "\n"


@pytest.fixture
def make_task(tmp_path: Path):
    """Write a task file plus a JSONL dataset into tmp_path and return the task path."""

    def _make(rows: list[dict] | None = None, yaml_text: str | None = None, name: str = "task.yaml") -> Path:
        data = tmp_path / "data.jsonl"
        data.write_text("".join(json.dumps(r) + "\n" for r in (ROWS if rows is None else rows)))
        path = tmp_path / name
        path.write_text(task_yaml() if yaml_text is None else yaml_text)
        return path

    return _make


@pytest.fixture(scope="session")
def embedded_backend():
    """The real embedded model through the real transformers backend (converted once, cached)."""
    from harness.backends.hf import HFBackend
    from harness.backends.models import resolve_model

    return HFBackend(resolve_model(None), dtype="float32", batch_size=4)


def needs_shared_data(sub: str):
    return pytest.mark.skipif(not (SHARED_DATA / sub).exists(),
                              reason=f"../shared/data/{sub} is absent (third-party data kept beside the repo)")
