"""Helpers for the training tests: preference rows with a conflicting minority, config writers."""

from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SHARED_DATA = ROOT.parent / "shared" / "data"

# Conflicting preferences: the majority prefers "yes", the minority "no", to prompts that differ
# only in the group's name. A model that cannot yet tell the groups apart learns the majority.
MAJORITY = [{"id": f"a{i}", "group": "alpha", "prompt": f"Group alpha, question {i}: is it fine?",
             "chosen": "Yes, it is fine.", "rejected": "No, it is not fine."} for i in range(12)]
MINORITY = [{"id": f"b{i}", "group": "beta", "prompt": f"Group beta, question {i}: is it fine?",
             "chosen": "No, it is not fine.", "rejected": "Yes, it is fine."} for i in range(4)]


def write_rows(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def write_config(folder: Path, model: Path | str | None, *, rows: list[dict] | None = None, robust: str = "group_dro",
                 extra: str = "", name: str = "cfg.yaml", **overrides: str) -> Path:
    """A training config in `folder` whose data file is written beside it (default: MAJORITY + MINORITY)."""
    write_rows(folder / "prefs.jsonl", MAJORITY + MINORITY if rows is None else rows)
    parts = {
        "model": f"model: {model}" if model is not None else "",
        "data": "data:\n  path: prefs.jsonl\n  columns: {id: id}\n  eval_fraction: 0.0",
        "loss": "loss:\n  type: dpo\n  beta: 0.5",
        "robust": f"robust:\n  mode: {robust}\n  step_size: 1.0",
        "optimizer": "optimizer:\n  learning_rate: 1.0e-2\n  batch_size: 16\n  max_steps: 4\n  max_length: 64\n"
                     "  lr_scheduler: constant",
        "output": f"output:\n  dir: {folder / 'model'}",
        "eval": "eval:\n  bootstrap_resamples: 50\n  min_group_size: 2",
        "device": "device: cpu",
    }
    parts.update(overrides)
    path = folder / name
    path.write_text("\n".join(v for v in parts.values() if v) + "\n" + extra)
    return path


def config_error(path: Path, with_data: bool = False):  # type: ignore[no-untyped-def]
    """The HarnessError that loading the config (and with_data, its data) raises."""
    import pytest

    from harness.core.errors import HarnessError
    from harness.train.config import load_train_config
    from harness.train.preferences import load_preferences

    with pytest.raises(HarnessError) as info:
        cfg = load_train_config(path)
        if with_data:
            load_preferences(cfg)
    return info.value
