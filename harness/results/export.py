"""Results as tables: load runs into pandas, or export them as CSV, JSON lines or Parquet.

Two tables, built from `results.json` and `samples.jsonl` of the runs found under the given
paths (a run directory, or a folder of runs, as `harness report` takes them). By default only the
latest run of each model × task × backend is read (`latest=True`, `harness export`'s `--latest`):
among the cell's complete runs (results.json and samples.jsonl present) the newest full one (no
`--limit`), else the newest `--limit` one; superseded and cached re-runs are left out. `latest=False`
(`--all`) reads every run folder.

metrics: one row per run × number, with the run's id, creation time, task and model
    (name, backend, dtype), then `kind`:
    - "metric": an entry of `metrics` (name, variant, group_key, group, value, CI, n, excluded, formula,
      ci_method, reason: why an undefined value is null, tied_groups: every tied group joined by
      ", ", small: the group is below the minimum group size);
    - "group": one group of a per-group breakdown (name = the breakdown's metric, group_key,
      group, items, small: below the minimum group size);
    - "state": one of PARROT's eight behavioural states (name "state_share", variant = the arm,
      group_key "state", group = "<number> <state>", value = its share, count).
samples: one row per sample with run_id, task and model (name, backend, dtype), then every field of
    `harness.results.schema.Sample`: `messages` as text ("role: content" blocks separated by blank
    lines), each `groups` entry as its own column `groups.<key>`, lists (choices, labels, tied) as
    lists, and dicts and records (label_logprobs, label_logprob_kind, execution) as JSON text.
    Parquet and JSON lines keep the lists as lists; CSV, which has no list type, writes them as
    JSON text (`json.loads` reads a cell back).

In Python:

    from harness.results.export import load_metrics, load_samples
    metrics = load_metrics([Path("runs")])
    acc = metrics[(metrics.kind == "metric") & (metrics.name == "accuracy")]
    samples = load_samples([Path("runs")])
    samples.groupby(["model", "groups.domain"]).correct.mean()

Exported files: `export_runs([Path("runs")], "parquet", Path("out"))` writes out/metrics.parquet
and out/samples.parquet; read them back with pandas.read_parquet, read_csv or
read_json(lines=True).

CSV cells that a spreadsheet would run as a formula (text starting with `=`, `+`, `-`, `@`, a tab
or a carriage return: model outputs and dataset text are untrusted) are written with a leading
`'` (OWASP's CSV-injection rule); JSON lines and Parquet keep every value as it is.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal, get_args

import pandas as pd
from pydantic import BaseModel

from harness.core.errors import HarnessError
from harness.results.io import find_run_dirs, read_result, read_samples
from harness.results.schema import RunResult, Sample

Format = Literal["csv", "jsonl", "parquet"]
FORMATS: tuple[str, ...] = get_args(Format)

METRIC_COLUMNS = ["run_id", "created_at", "task", "model", "backend", "dtype", "kind", "name", "variant",
                  "group_key", "group", "value", "ci_low", "ci_high", "n", "excluded", "items", "small", "count",
                  "formula", "ci_method", "reason", "tied_groups"]
RUN_COLUMNS = ["run_id", "task", "model", "backend", "dtype"]
LIST_COLUMNS = ("choices", "labels", "tied")


def _runs(paths: list[Path]) -> list[Path]:
    dirs = find_run_dirs(paths)
    if not dirs:
        raise HarnessError("no runs found (no results.json here or one level below)",
                           file=", ".join(str(p) for p in paths) or None)
    return dirs


def latest_runs(runs: list[tuple[RunResult, Path]]) -> list[tuple[RunResult, Path]]:
    """One run per model × task × backend: of its complete runs (samples.jsonl written), the newest full one
    (no `--limit`), else the newest; the runs kept stay in their input order."""
    best: dict[tuple[str, str, str], tuple[tuple[bool, str, str], RunResult]] = {}
    for run, folder in runs:
        if not (folder / "samples.jsonl").is_file():
            continue
        rank = (run.settings.limit is None, run.created_at, run.run_id)
        cell = (run.model.name, run.task.name, run.model.backend)
        if cell not in best or rank > best[cell][0]:
            best[cell] = (rank, run)
    keep = {id(run) for _, run in best.values()}
    return [(run, folder) for run, folder in runs if id(run) in keep]


def _run_fields(run: RunResult) -> dict[str, Any]:
    return {"run_id": run.run_id, "created_at": run.created_at, "task": run.task.name, "model": run.model.name,
            "backend": run.model.backend, "dtype": run.model.dtype}


def metric_rows(run: RunResult) -> list[dict[str, Any]]:
    """The metrics-table rows of one run."""
    base = _run_fields(run)
    rows = []
    for m in run.metrics:
        rows.append({**base, "kind": "metric", "name": m.name, "variant": m.variant, "group_key": m.group_key,
                     "group": m.group, "value": m.value, "ci_low": m.ci_low, "ci_high": m.ci_high, "n": m.n,
                     "excluded": m.excluded, "formula": m.formula, "ci_method": m.ci_method, "reason": m.reason,
                     "tied_groups": ", ".join(m.tied_groups) or None, "small": m.small})
    for bd in run.groups:
        for g in bd.groups:
            rows.append({**base, "kind": "group", "name": bd.metric, "variant": bd.variant, "group_key": bd.key,
                         "group": g.group, "value": g.value, "ci_low": g.ci_low, "ci_high": g.ci_high, "n": g.n,
                         "items": g.items, "small": g.small})
    for st in run.states:
        rows.append({**base, "kind": "state", "name": "state_share", "variant": st.arm, "group_key": "state",
                     "group": f"{st.number} {st.state}", "value": st.value, "ci_low": st.ci_low,
                     "ci_high": st.ci_high, "n": st.n, "count": st.count})
    return rows


def messages_text(sample: Sample) -> str:
    return "\n\n".join(f"{m.role}: {m.content}" for m in sample.messages)


def sample_row(run: RunResult, sample: Sample) -> dict[str, Any]:
    """The samples-table row of one sample."""
    row: dict[str, Any] = {k: v for k, v in _run_fields(run).items() if k in RUN_COLUMNS}
    for field in Sample.model_fields:
        value = getattr(sample, field)
        if field == "messages":
            row[field] = messages_text(sample)
        elif field == "groups":
            row.update({f"groups.{k}": v for k, v in value.items()})
        elif field in LIST_COLUMNS:
            row[field] = list(value)
        elif isinstance(value, BaseModel):
            row[field] = value.model_dump_json()
        elif isinstance(value, (list, dict)):
            row[field] = json.dumps(value, ensure_ascii=False)
        else:
            row[field] = value
    return row


def _metrics_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=METRIC_COLUMNS)
    for col in ("value", "ci_low", "ci_high"):
        df[col] = df[col].astype("float64")
    for col in ("n", "excluded", "items", "count"):
        df[col] = df[col].astype("Int64")
    df["small"] = df["small"].astype("boolean")
    return df


def _samples_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    fixed = RUN_COLUMNS + [f for f in Sample.model_fields if f != "groups"]
    group_cols = sorted({c for r in rows for c in r if c.startswith("groups.")})
    df = pd.DataFrame(rows, columns=fixed + group_cols)
    df["gold_prob"] = df["gold_prob"].astype("float64")
    df["predicted_option"] = df["predicted_option"].astype("Int64")
    for col in ("repeat", "prompt_tokens", "output_tokens"):
        df[col] = df[col].astype("int64")
    for col in ("correct", "invalid"):
        df[col] = df[col].astype("bool")
    return df


def _load(paths: list[Path], latest: bool) -> list[tuple[RunResult, Path]]:
    runs = [(read_result(d), d) for d in _runs(paths)]
    return latest_runs(runs) if latest else runs


def _metrics_table(runs: list[tuple[RunResult, Path]]) -> pd.DataFrame:
    return _metrics_frame([row for run, _ in runs for row in metric_rows(run)])


def _samples_table(runs: list[tuple[RunResult, Path]]) -> pd.DataFrame:
    return _samples_frame([sample_row(run, s) for run, d in runs for s in read_samples(d)])


def load_metrics(paths: list[Path], *, latest: bool = True) -> pd.DataFrame:
    """The metrics, group values and behavioural states of the latest run of each model × task × backend
    (`latest=False`: of every run) as one DataFrame (module docstring)."""
    return _metrics_table(_load(paths, latest))


def load_samples(paths: list[Path], *, latest: bool = True) -> pd.DataFrame:
    """The samples of the latest run of each model × task × backend (`latest=False`: of every run) as one
    DataFrame, one row per sample (module docstring)."""
    return _samples_table(_load(paths, latest))


def _atomic(path: Path, write: Callable[[Path], None]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(Path(tmp))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")  # a spreadsheet runs such a cell as a formula (OWASP)


def inert(value: Any) -> Any:
    """A text cell a spreadsheet shows as text: one starting like a formula gets a leading `'`."""
    return "'" + value if isinstance(value, str) and value.startswith(FORMULA_START) else value


def csv_safe(df: pd.DataFrame) -> pd.DataFrame:
    """The table with lists as JSON text and every text cell and column name made inert (numbers stay numbers)."""
    out = df.copy()
    for col in LIST_COLUMNS:
        if col in out.columns:
            out[col] = out[col].map(lambda v: json.dumps(v, ensure_ascii=False) if isinstance(v, list) else v)
    out = out.rename(columns=inert)
    for col in out.columns:
        if pd.api.types.is_object_dtype(out[col]) or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(inert)
    return out


def write_table(df: pd.DataFrame, fmt: Format, path: Path) -> None:
    if fmt == "csv":
        _atomic(path, lambda p: csv_safe(df).to_csv(p, index=False))
    elif fmt == "jsonl":
        _atomic(path, lambda p: df.to_json(p, orient="records", lines=True, force_ascii=False))
    elif fmt == "parquet":
        _atomic(path, lambda p: df.to_parquet(p, index=False))
    else:
        raise HarnessError(f"unknown export format {fmt!r}: one of {', '.join(FORMATS)}", field="format")


def export_runs(paths: list[Path], fmt: Format, output: Path, *, latest: bool = True) -> tuple[Path, Path]:
    """Write `output`/metrics.<fmt> and `output`/samples.<fmt> from the latest run of each model × task × backend
    under `paths` (`latest=False`: every run); returns the two paths."""
    if fmt not in FORMATS:
        raise HarnessError(f"unknown export format {fmt!r}: one of {', '.join(FORMATS)}", field="format")
    if output.exists() and not output.is_dir():
        raise HarnessError("the export output must be a directory", file=output)
    runs = _load(paths, latest)
    metrics, samples = _metrics_table(runs), _samples_table(runs)
    metrics_path, samples_path = output / f"metrics.{fmt}", output / f"samples.{fmt}"
    write_table(metrics, fmt, metrics_path)
    write_table(samples, fmt, samples_path)
    return metrics_path, samples_path
