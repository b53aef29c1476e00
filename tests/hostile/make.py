"""Building blocks of the hostile cases: a small valid task, its data, recorded outputs, and readers
of what a run wrote."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from tests.conftest import PROMPT, ROOT, ROWS, task_yaml
from tests.hostile.runner import Outcome

BAD = ROOT / "tests" / "bad_inputs"
VALIDATE = ("validate", "{d}/task.yaml")
RUNS = ("-o", "{d}/runs", "--no-report")


def jsonl(rows: list[dict[str, Any]]) -> str:
    return "".join(json.dumps(r) + "\n" for r in rows)


def task(data: str = "data.jsonl", **overrides: str) -> str:
    """The tiny multiple-choice task of tests/conftest.py, answered in text (so replay can score it)."""
    return task_yaml(data, **{"answer": "answer: generate", **overrides})


def files(template: str | None = None, rows: list[dict[str, Any]] | None = None, **overrides: str) -> dict[str, str]:
    """task.yaml + data.jsonl (+ t.j2 as the prompt template when `template` is given)."""
    out = {"data.jsonl": jsonl(ROWS if rows is None else rows)}
    if template is not None:
        out["t.j2"] = template
        overrides.setdefault("prompt", "prompt:\n  template: t.j2")
    out["task.yaml"] = task(**overrides)
    return out


def recorded(outputs: dict[str, str]) -> str:
    return jsonl([{"id": k, "output": v, "model": "rec"} for k, v in outputs.items()])


def replay(*extra: str, task_file: str = "{d}/task.yaml") -> tuple[str, ...]:
    return ("run", task_file, "--model", "replay:{d}/recorded.jsonl", *RUNS, *extra)


def samples(folder: Path, runs: str = "runs") -> list[dict[str, Any]]:
    return [json.loads(line) for f in sorted((folder / runs).glob("*/samples.jsonl"))
            for line in f.read_text().splitlines()]


def results(folder: Path, runs: str = "runs") -> list[dict[str, Any]]:
    return [json.loads(f.read_text()) for f in sorted((folder / runs).glob("*/results.json"))]


def prompts(folder: Path) -> str:
    return "\n".join(m["content"] for s in samples(folder) for m in s["messages"])


def metric(folder: Path, name: str) -> float:
    (run,) = results(folder)
    return next(m["value"] for m in run["metrics"] if m["name"] == name and m.get("group") is None)


def csv_cells(path: Path) -> list[str]:
    with path.open(newline="", encoding="utf-8") as fh:
        return [cell for row in csv.reader(fh) for cell in row]


def printed(*texts: str):  # type: ignore[no-untyped-def]
    """A check: every text appears in stdout exactly as written."""

    def check(folder: Path, out: Outcome) -> str | None:
        missing = [t for t in texts if t.replace("{d}", str(folder)) not in out.stdout + out.stderr]
        return f"not printed: {missing}" if missing else None

    return check


def persuasion(templates: str, personas: str = "personas.yaml") -> str:
    return (f"persuasion:\n  arms: [neutral, authority_wrong]\n  templates: {templates}\n"
            f"  personas: {personas}\n")


def perturbation(step: str) -> str:
    return f"perturbations:\n  variants:\n    - name: v\n      steps:\n        - {step}\n"


__all__ = ["BAD", "PROMPT", "ROOT", "ROWS", "VALIDATE", "RUNS"]
