"""The report's effective-robustness section: per task, the clean and perturbed condition of each model's
shown run, the fit across models (harness/metrics/effective_robustness.py) and its scatter plot.

Conditions: for a task with variants, the reference variant (original prompts, neutral arm) against every
other variant pooled; for a retrieval task (NoMIRACL), the relevant subset against the non-relevant one.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from pydantic import BaseModel

from harness.metrics.effective_robustness import EffectiveRobustness, effective_robustness, logit
from harness.report.leaderboard import reference_variant
from harness.results.schema import RunResult, Sample

Keep = Callable[[Sample], bool]


def conditions(run: RunResult, samples: list[Sample]) -> tuple[str, Keep, str, Keep] | None:
    """(clean label, clean test, perturbed label, perturbed test) for the run's task, None if it has none."""
    variants = {s.variant for s in samples}
    if len(variants) > 1:
        ref = reference_variant(run) or sorted(variants)[0]
        ref = ref if ref in variants else sorted(variants)[0]
        return (f"variant {ref}", lambda s: s.variant == ref,
                f"every other variant pooled ({len(variants) - 1})", lambda s: s.variant != ref)
    rag = run.task.config.get("rag") or {}
    key, values = rag.get("relevant"), rag.get("relevant_values")
    if key and values:
        shown = ", ".join(str(v) for v in values)
        return (f"{key} = {shown}", lambda s: s.groups.get(key) in values,
                f"{key} ≠ {shown}", lambda s: s.groups.get(key) not in values)
    return None


def per_item(samples: list[Sample], keep: Keep) -> dict[str, float]:
    """item -> mean correctness over its kept samples."""
    sums: dict[str, list[float]] = {}
    for s in samples:
        if keep(s):
            sums.setdefault(s.item_id, []).append(float(s.correct))
    return {item: sum(v) / len(v) for item, v in sums.items()}


class Plot(BaseModel):
    """The scatter on logit axes, in SVG pixel coordinates; ticks in accuracy percent."""

    size: int
    pad: int
    points: list[tuple[float, float, str, float]]  # x, y, model, effective robustness
    line: tuple[float, float, float, float]
    diagonal: tuple[float, float, float, float]
    ticks: list[tuple[float, str]]


class Section(BaseModel):
    task: str
    result: EffectiveRobustness | None
    error: str | None
    plot: Plot | None


TICKS = (0.01, 0.05, 0.2, 0.5, 0.8, 0.95, 0.99)


def plot(result: EffectiveRobustness, size: int = 420, pad: int = 40) -> Plot:
    eps, eps_c, eps_p = 1e-3, 1 / (2 * result.items_clean), 1 / (2 * result.items_perturbed)  # as in the fit
    lo, hi = float(logit(np.array(0.01), eps)), float(logit(np.array(0.99), eps))
    xs = [float(logit(np.array(p.clean), eps_c)) for p in result.points]
    ys = [float(logit(np.array(p.perturbed), eps_p)) for p in result.points]
    lo, hi = min([lo, *xs, *ys]), max([hi, *xs, *ys])

    def px(v: float) -> float:
        return pad + (v - lo) / (hi - lo) * (size - 2 * pad)

    def py(v: float) -> float:
        return size - px(v)

    line = (px(lo), py(result.intercept + result.slope * lo), px(hi), py(result.intercept + result.slope * hi))
    ticks = [(px(float(logit(np.array(t), eps))), f"{100 * t:.0f}") for t in TICKS]
    return Plot(size=size, pad=pad, points=[(px(x), py(y), p.model, p.effective_robustness)
                                            for x, y, p in zip(xs, ys, result.points)],
                line=line, diagonal=(px(lo), py(lo), px(hi), py(hi)), ticks=ticks)


def sections(cells: dict[tuple[str, str], RunResult], samples: dict[str, list[Sample]],
             label: Callable[[RunResult], str]) -> list[Section]:
    """One section per task whose shown complete runs (with samples; partial runs are left out) have a clean
    and a perturbed condition."""
    out = []
    for task in sorted({t for _, t in cells}):
        runs = [r for (_, t), r in sorted(cells.items())
                if t == task and r.run_id in samples and r.settings.limit is None]
        found = [(r, conditions(r, samples[r.run_id])) for r in runs]
        found = [(r, c) for r, c in found if c is not None]
        if not found:
            continue
        clean_label, _, perturbed_label, _ = found[0][1]  # type: ignore[misc]
        clean = {label(r): per_item(samples[r.run_id], c[1]) for r, c in found}
        perturbed = {label(r): per_item(samples[r.run_id], c[3]) for r, c in found}
        first = found[0][0]
        try:
            result = effective_robustness(clean, perturbed, clean_label=clean_label, perturbed_label=perturbed_label,
                                          seed=first.settings.seed, resamples=first.settings.bootstrap_resamples,
                                          level=first.settings.ci_level)
        except ValueError as exc:
            out.append(Section(task=task, result=None, error=str(exc), plot=None))
            continue
        out.append(Section(task=task, result=result, error=None, plot=plot(result)))
    return out
