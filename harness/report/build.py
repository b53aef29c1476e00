"""Build one self-contained HTML file (no CDN, opens offline) from run directories.

Everything that came from a dataset or a model is escaped by jinja2's autoescape; the template
never marks such text safe.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import jinja2
from pydantic import BaseModel

from harness import __version__
from harness.core.errors import HarnessError
from harness.report.compare import comparisons
from harness.report.effective import sections
from harness.report.explorer import PromptTable, Segment, diff_segments, explorer_rows, json_for_script, prompt_text
from harness.report.format import header, load_metadata, number, unit_of
from harness.report.leaderboard import choose, columns, headline_arm, task_rows
from harness.results.io import Skip, atomic_write_text, load_run_dirs, read_samples
from harness.results.schema import GroupValue, Metric, RunResult, Sample

_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("harness", "report/templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def model_label(run: RunResult) -> str:
    return f"{run.model.name} ({run.model.backend}, {run.model.dtype})"


def latest_per_cell(runs: list[RunResult]) -> dict[tuple[str, str], RunResult]:
    """(model, task) -> the run shown for it (harness/report/leaderboard.py: newest complete run)."""
    return choose(runs)[0]


def arm_table(run: RunResult) -> tuple[list[str], list[str], dict[tuple[str, str], Metric]]:
    """(arms, metric columns present in declaration order, (arm, metric) -> Metric) for runs with variants."""
    cells = {(m.variant, m.name): m for m in run.metrics if m.variant is not None and m.group is None}
    arms = list(dict.fromkeys(m.variant for m in run.metrics if m.variant is not None))
    by_name: dict[str, Metric] = {}
    for (_, name), m in cells.items():
        by_name.setdefault(name, m)
    return arms, [c.name for c in columns([by_name])], cells  # type: ignore[return-value]


def perturbed(run: RunResult) -> bool:
    """Whether the run's variants are perturbations (else persuasion arms)."""
    return bool(run.task.config.get("perturbations")) or any(m.name.startswith("robust_pass@") for m in run.metrics)


class Matrix(BaseModel):
    """One metric by groups of one key (rows) and variants (columns): the heatmap tables."""

    key: str
    metric: str
    higher_is_better: bool
    min_group_size: int
    variants: list[str]
    groups: list[str]
    cells: dict[str, dict[str, GroupValue]]  # group -> variant -> value
    small: dict[str, bool]
    items: dict[str, int]
    worst: dict[str, list[str]]  # variant -> worst groups (several when tied)


def group_matrices(run: RunResult) -> list[Matrix]:
    out: dict[tuple[str, str], Matrix] = {}
    for bd in run.groups:
        variant = bd.variant or "original"
        m = out.setdefault((bd.key, bd.metric), Matrix(
            key=bd.key, metric=bd.metric, higher_is_better=bd.higher_is_better, min_group_size=bd.min_group_size,
            variants=[], groups=[], cells={}, small={}, items={}, worst={}))
        m.variants.append(variant)
        m.worst[variant] = bd.worst_groups or ([bd.worst] if bd.worst else [])  # results written before ties
        for g in bd.groups:
            if g.group not in m.cells:
                m.groups.append(g.group)
                m.cells[g.group] = {}
            m.cells[g.group][variant] = g
            m.small[g.group] = g.small
            m.items[g.group] = g.items
    return list(out.values())


def group_names(m: Metric) -> str:
    """The group a worst/best metric names, or every tied group with their count."""
    names = m.tied_groups or ([m.group] if m.group else [])
    return ", ".join(names) + (f" ({len(names)} tied)" if len(names) > 1 else "")


def overall(run: RunResult, name: str) -> Metric | None:
    """The metric `name` about no particular variant (e.g. PDR pooled over every perturbation)."""
    return next((m for m in run.metrics if m.name == name and m.variant is None and m.group is None), None)


class ExampleRow(BaseModel):
    """One perturbed prompt beside its original, with the model's answers to both."""

    item_id: str
    variant: str
    original: list[Segment]
    perturbed: list[Segment]
    original_answer: str | None
    answer: str | None
    original_correct: bool
    correct: bool
    flipped: bool


def perturbation_examples(samples: list[Sample], items: int = 3) -> list[ExampleRow]:
    """For the first `items` items: every perturbed draw beside the original prompt."""
    originals = {s.item_id: s for s in samples if s.variant == "original" and s.sample_index == 0}
    chosen = list(originals)[:items]
    rows = []
    for s in samples:
        if s.perturbation is None or s.item_id not in chosen or s.sample_index:
            continue
        o = originals[s.item_id]
        left, right = diff_segments(prompt_text(o), prompt_text(s))
        options = s.predicted_option is not None or o.predicted_option is not None
        rows.append(ExampleRow(item_id=s.item_id, variant=s.variant, original=left, perturbed=right,
                               original_answer=o.predicted, answer=s.predicted, original_correct=o.correct,
                               correct=s.correct, flipped=s.predicted_option != o.predicted_option if options
                               else s.predicted != o.predicted))
    return sorted(rows, key=lambda r: chosen.index(r.item_id))


class Page(BaseModel):
    """What `harness report` and the page both say about the runs read."""

    path: Path
    runs: int
    shown: int
    superseded: int
    partial: int

    def line(self) -> str:
        partial = f", {self.partial} of them partial (--limit)" if self.partial else ""
        return (f"{self.runs} runs read: {self.shown} shown{partial}, {self.superseded} superseded "
                "(older, partial or on another backend than the run shown for the same model and task)")


def render_report(runs: list[RunResult], examples: dict[str, list[ExampleRow]] | None = None,
                  samples: dict[str, list[Sample]] | None = None) -> str:
    """The report of the run shown per (model, task); `samples` (by run id) feed the explorer."""
    load_metadata()
    cells, superseded = choose(runs)
    tasks = sorted({t for _, t in cells})
    prompts = PromptTable()
    explorer = {run.run_id: json_for_script(explorer_rows(run, samples[run.run_id], prompts))
                for run in cells.values() if samples and run.run_id in samples}
    arm_of = {run.run_id: headline_arm(run) for run in cells.values()}
    boards = {t: task_rows([r for (_, task), r in cells.items() if task == t], arm_of) for t in tasks}
    pairs = comparisons(cells, samples or {})
    shown = list(cells.values())
    page = Page(path=Path("."), runs=len(runs), shown=len(shown), superseded=len(superseded),
                partial=sum(1 for r in shown if r.settings.limit is not None))
    return _ENV.get_template("report.html.j2").render(
        cells=cells, models=sorted({m for m, _ in cells}), tasks=tasks, runs=shown, model_label=model_label,
        boards=boards, superseded=superseded, page=page, number=number, unit_of=unit_of, header=header,
        effective=sections(cells, samples or {}, lambda r: r.model.name),
        arm_table=arm_table, group_matrices=group_matrices, headline_arm=headline_arm, overall=overall,
        perturbed=perturbed, group_names=group_names,
        examples=examples or {}, explorer=explorer, prompts_json=json_for_script(prompts.texts),
        comparisons=json_for_script(pairs) if pairs else None,
        version=__version__, generated=datetime.now(timezone.utc).isoformat(timespec="seconds"))


def write_report(paths: list[Path], output: Path, on_invalid: Skip | None = None) -> tuple[Path, int]:
    """The report of the runs under `paths` (see `write_page`): its path and the number of runs read."""
    page = write_page(paths, output, on_invalid)
    return page.path, page.runs


def write_page(paths: list[Path], output: Path, on_invalid: Skip | None = None) -> Page:
    """The report of the runs under `paths`; given `on_invalid`, a run whose results or samples cannot
    be read is reported to it and left out (its samples only, when its results are fine)."""
    skipped: list[HarnessError] = []
    loaded = load_run_dirs(paths, skipped.append if on_invalid else None)
    if not loaded:
        if skipped:
            raise HarnessError(f"{skipped[0].message}, and no valid run beside it"
                               + (f" ({len(skipped) - 1} more invalid)" if len(skipped) > 1 else ""),
                               file=skipped[0].file)
        raise HarnessError("no runs found (a run directory holds results.json)",
                           file=", ".join(str(p) for p in paths))
    for error in skipped:
        on_invalid(error)  # type: ignore[misc]
    if output.suffix != ".html":
        output = output / "index.html"
    shown, superseded = choose([r for r, _ in loaded])
    latest = {r.run_id for r in shown.values()}
    examples, samples = {}, {}
    for run, folder in loaded:
        if run.run_id not in latest or not (folder / "samples.jsonl").is_file():
            continue
        try:
            samples[run.run_id] = read_samples(folder)
        except HarnessError as error:
            if on_invalid is None:
                raise
            on_invalid(error)
            continue
        if any(s.perturbation is not None for s in samples[run.run_id]):
            examples[run.run_id] = perturbation_examples(samples[run.run_id])
    atomic_write_text(output, render_report([r for r, _ in loaded], examples, samples))
    return Page(path=output, runs=len(loaded), shown=len(shown), superseded=len(superseded),
                partial=sum(1 for r in shown.values() if r.settings.limit is not None))
