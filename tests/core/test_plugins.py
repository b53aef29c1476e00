"""A third-party plugin (tests/plugin_example) adds a perturbation, a scorer, a metric family and a task kind,
one file each, found through the `harness.plugins` entry-point group, and `harness run` uses all four."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

PLUGIN = ROOT / "tests" / "plugin_example"


@pytest.fixture(scope="module")
def plugin_env(tmp_path_factory) -> dict[str, str]:
    """An environment in which the plugin is installed as `pip install` would install it: its package on the
    path and a dist-info folder carrying its entry points (read from its pyproject.toml)."""
    import tomllib

    site = tmp_path_factory.mktemp("site")
    meta = tomllib.loads((PLUGIN / "pyproject.toml").read_text())["project"]
    dist = site / "harness_example_plugin-0.1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {meta['name']}\nVersion: {meta['version']}\n")
    points = meta["entry-points"]["harness.plugins"]
    (dist / "entry_points.txt").write_text("[harness.plugins]\n" + "".join(f"{k} = {v}\n" for k, v in points.items()))
    env = dict(os.environ, COLUMNS="200")
    env["PYTHONPATH"] = os.pathsep.join([str(site), str(PLUGIN), str(ROOT), env.get("PYTHONPATH", "")])
    return env


def harness(env: dict[str, str], *args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "harness.cli", *args], capture_output=True, text=True, env=env,
                          cwd=cwd, timeout=600)


def test_plugins_are_listed_with_the_builtins(plugin_env):
    for what, name in [("kinds", "true_false"), ("scorers", "exact_label"), ("metrics", "confident_error"),
                       ("perturbations", "leetspeak")]:
        proc = harness(plugin_env, "list", what)
        assert proc.returncode == 0, proc.stderr
        assert name in proc.stdout and "harness_example_plugin" in proc.stdout
    schema = json.loads(harness(plugin_env, "schema").stdout)
    assert "TrueFalseSpec" in schema["$defs"] and "LeetspeakParams" in schema["$defs"]


def test_without_the_plugin_its_kind_is_unknown():
    proc = subprocess.run([sys.executable, "-m", "harness.cli", "validate", str(PLUGIN / "true_false.yaml")],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert proc.returncode == 2
    assert "unknown task type 'true_false'" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


@pytest.mark.integration
def test_harness_run_uses_the_plugin_end_to_end(plugin_env, tmp_path):
    out = tmp_path / "runs"
    proc = harness(plugin_env, "run", str(PLUGIN / "true_false.yaml"), str(PLUGIN / "true_false_exact.yaml"),
                   "--output", str(out), "--no-report", "--no-cache", "--dtype", "float32")
    assert proc.returncode == 0, proc.stderr
    runs = {json.loads((d / "results.json").read_text())["task"]["name"]: d for d in out.iterdir()}
    result = json.loads((runs["true_false_demo"] / "results.json").read_text())
    samples = [json.loads(line) for line in (runs["true_false_demo"] / "samples.jsonl").read_text().splitlines()]
    assert {s["variant"] for s in samples} == {"original", "leet"} and len(samples) == 16
    leet = [s for s in samples if s["variant"] == "leet"]
    assert any(any(ch.isdigit() for ch in s["messages"][-1]["content"].split("\n")[1]) for s in leet)
    assert all(set(s["label_logprobs"]) == {"True", "False"} for s in samples)
    # the plugin's metric, recomputed from the samples
    base = [s for s in samples if s["variant"] == "original"]
    confident = [(not s["correct"]) and max(s["label_logprobs"].values()) == s["label_logprobs"][s["predicted"]]
                 for s in base]  # two options: the chosen one has p >= 0.5 exactly when it is the argmax
    metric = next(m for m in result["metrics"] if m["name"] == "confident_error_rate")
    assert metric["value"] == pytest.approx(sum(confident) / len(base)) and metric["n"] == 8
    assert metric["unit"] == "rate" and metric["higher_is_better"] is False
    assert any(m["name"] == "performance_drop_rate" for m in result["metrics"])  # robustness family on plugin data
    exact = [json.loads(line) for line in (runs["true_false_exact"] / "samples.jsonl").read_text().splitlines()]
    for s in exact:  # the plugin's scorer: exactly a label, or invalid
        text = (s["output"] or "").strip().rstrip(".")
        assert s["invalid"] == (text not in ("True", "False"))
