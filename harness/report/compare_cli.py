"""`harness compare`: which runs (paths, MODEL@TASK, or --task with --models), which metric, and the
lines it prints. Paired metrics (harness/report/sample_metrics.py) are compared sample by sample; any
other metric in both runs' results.json is shown side by side, unpaired (no CI for the difference)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness.core.errors import HarnessError
from harness.report.compare import compare_pair, resolve
from harness.report.format import load_metadata, number, unit_of, with_ci
from harness.report.sample_metrics import SCORES, parse_group
from harness.results.io import read_result, read_samples
from harness.results.schema import RunResult


def _refs(refs: list[str], task: str | None, models: str | None, folder: Path) -> list[Path]:
    if models:
        if not task:
            raise HarnessError("--models needs --task (the task the models ran)", field="--models")
        refs = [*refs, *(m.strip() for m in models.split(",") if m.strip())]
    if len(refs) < 2:
        raise HarnessError("compare needs two runs: RUN_A RUN_B, MODEL@TASK twice, or --task T --models A,B",
                           field="runs")
    return [resolve(ref, folder, task) for ref in refs]


def _unpaired(ra: RunResult, rb: RunResult, metric: str, variant: str | None) -> tuple[list[str], dict[str, Any]]:
    ma, mb = ra.metric(metric, variant), rb.metric(metric, variant)
    if ma is None or mb is None:
        names = sorted({m.name for m in ra.metrics} & {m.name for m in rb.metrics})
        raise HarnessError(f"unknown metric '{metric}'{f' on variant {variant}' if variant else ''} (paired: "
                           f"{', '.join(SCORES)}; in both runs' results.json: {', '.join(names)})", field="--metric")
    unit = unit_of(ma)
    where = f" [{ma.variant}]" if ma.variant else ""
    diff = "–"
    if ma.value is not None and mb.value is not None:
        diff = number(mb.value - ma.value, "points" if unit == "rate" else unit) + (" pp" if unit == "rate" else "")
    line = (f"{ra.task.name}: {metric}{where} from results.json, unpaired: A = {ra.model.name} {with_ci(ma)}, "
            f"B = {rb.model.name} {with_ci(mb)}; B − A = {diff} (no paired CI: not a per-sample metric)")
    return [line], {"metric": metric, "a": ma.model_dump(), "b": mb.model_dump()}


def compare_command(refs: list[str], task: str | None, models: str | None, metric: str, variant: str | None,
                    group: str | None, folder: Path) -> tuple[list[str], dict[str, Any]]:
    """The printed lines and the JSON record of comparing every run after the first with the first."""
    load_metadata()
    dirs = _refs(refs, task, models, folder)
    for d in dirs:
        if not (d / "samples.jsonl").is_file():
            raise HarnessError("not a run directory (needs results.json and samples.jsonl)", file=d)
    runs = [(read_result(d), d) for d in dirs]
    names = {r.task.name for r, _ in runs}
    if len(names) > 1:
        raise HarnessError(f"the runs are of different tasks ({', '.join(sorted(names))})", file=runs[1][1])
    keyed = parse_group(group)
    (ra, da), lines, records = runs[0], [], []
    if metric not in SCORES:
        for rb, _ in runs[1:]:
            more, record = _unpaired(ra, rb, metric, variant)
            lines += more
            records.append(record)
        return lines, {"comparisons": records}
    sa = read_samples(da)
    for rb, db in runs[1:]:
        try:
            sel, c, differing, _, _ = compare_pair((ra.model.name, ra, sa), (rb.model.name, rb, read_samples(db)),
                                                   metric, variant, keyed)
        except ValueError as exc:
            raise HarnessError(str(exc), file=db) from None
        lines.append(f"{ra.task.name}, {sel.label}: A = {c.name_a} {number(c.value_a, 'rate')}, "
                     f"B = {c.name_b} {number(c.value_b, 'rate')}\n"
                     f"B − A = {number(c.diff, 'points')} pp [{number(c.ci_low, 'points')}, "
                     f"{number(c.ci_high, 'points')}] ({c.ci_method}); p = {c.p_value:.3g} ({c.method}); "
                     f"{c.n} samples, {len(differing)} where exactly one scores 1")
        records.append({"selection": sel.model_dump(), "comparison": c.model_dump(), "differing": differing})
    return lines, records[0] if len(records) == 1 else {"comparisons": records}
