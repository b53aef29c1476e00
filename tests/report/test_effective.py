"""The report's effective-robustness section: conditions per task kind, on synthetic perturbation runs and
on the 11 recorded NoMIRACL models (relevant against non-relevant)."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.config.task import load_task
from harness.pipeline.recorded import replay_backends
from harness.pipeline.runner import RunOptions, run_task
from harness.report.build import write_page
from harness.report.effective import sections
from harness.report.leaderboard import choose
from harness.results.io import load_run_dirs, read_samples, write_run
from harness.results.schema import Metric
from tests.conftest import ROOT, needs_shared_data
from tests.report.test_build import fake_run
from tests.report.test_compare import sample


def perturbed_run(folder: Path, model: str, original: int, typo: int, limit: int | None = None) -> None:
    """40 items: `original` of them right on the original prompts, `typo` under the typo perturbation."""
    run = fake_run(model, model, "robust", original / 40)
    run.metrics = [m.model_copy(update={"variant": "original"}) for m in run.metrics]
    run.metrics.append(Metric(name="accuracy", variant="typo", value=typo / 40, n=40, formula="f"))
    run = run.model_copy(update={"settings": run.settings.model_copy(update={"limit": limit,
                                                                             "bootstrap_resamples": 200})})
    samples = [sample(i, "original", "A" if i < original else "B") for i in range(40)]
    samples += [sample(i, "typo", "A" if i < typo else "B") for i in range(40)]
    write_run(folder / model, run, samples)


def test_synthetic_perturbation_runs(tmp_path: Path):
    for model, original, typo in (("m1", 36, 30), ("m2", 32, 22), ("m3", 28, 16), ("robust", 24, 20)):
        perturbed_run(tmp_path, model, original, typo)
    perturbed_run(tmp_path, "partial", 40, 40, limit=40)  # left out of the fit
    loaded = load_run_dirs([tmp_path])
    shown, _ = choose([r for r, _ in loaded])
    samples = {r.run_id: read_samples(d) for r, d in loaded}
    (sec,) = sections(shown, samples, lambda r: r.model.name)
    assert sec.result is not None and sec.result.clean == "variant original"
    assert sec.result.perturbed == "every other variant pooled (1)"
    points = {p.model: p for p in sec.result.points}
    assert set(points) == {"m1", "m2", "m3", "robust"} and points["robust"].perturbed == 0.5
    assert max(points, key=lambda m: points[m].effective_robustness) == "robust"
    html = write_page([tmp_path], tmp_path / "r.html").path.read_text()
    assert 'id="effective-robustness"' in html and '<svg class="scatter"' in html
    assert html.count("<circle") == 4 and "robust</td>" in html


@needs_shared_data("nomiracl_en")
def test_nomiracl_relevant_against_non_relevant_for_11_models(tmp_path: Path):
    task = load_task(ROOT / "tasks" / "nomiracl.yaml")
    for backend in replay_backends(task, "replay:results.*"):  # recorded outputs: no inference
        run_task(task, backend, RunOptions(bootstrap_resamples=200), tmp_path / backend.info.name)
    loaded = load_run_dirs([tmp_path])
    shown, _ = choose([r for r, _ in loaded])
    (sec,) = sections(shown, {r.run_id: read_samples(d) for r, d in loaded}, lambda r: r.model.name)
    r = sec.result
    assert r is not None and (r.clean, r.perturbed) == ("subset = relevant", "subset ≠ relevant")
    assert len(r.points) == 11 and r.items_clean == r.items_perturbed == 250
    got = {p.model: p for p in r.points}
    # accuracy on the relevant subset = 1 − error (official, all answers), docs/results.md and the official scorer
    assert got["gpt-4-azure"].clean == pytest.approx(0.948) and got["gpt-4-azure"].perturbed == pytest.approx(0.572)
    assert got["Mistral-7B-Instruct-v0.2"].clean == pytest.approx(0.352)
    # relevant and non-relevant accuracy do not go together across these models: a flat fit, τ near 0
    assert abs(r.slope) < 0.5 and r.kendall_tau is not None and abs(r.kendall_tau) < 0.3
    best = max(r.points, key=lambda p: p.effective_robustness)
    assert best.model == "Mistral-7B-Instruct-v0.2" and best.ci_low > 0.5  # type: ignore[operator]
    for p in r.points:
        assert p.ci_low <= p.effective_robustness <= p.ci_high  # type: ignore[operator]
