"""Typer commands for group-robust preference training; harness/cli/main.py registers them.

    app.command("train")(train_command)
    app.command("train-eval")(train_eval_command)
    app.command("train-opinionqa")(opinionqa_command)

Bad input never ends in a traceback: a HarnessError is printed as one line naming file, line and
field (`harness: error: FILE:LINE: field 'F': message`) and the exit code is 2, as in `harness run`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from harness.cli.console import fail, out, print_table
from harness.core.errors import HarnessError


def _main_process() -> bool:
    """False in the other processes of an `accelerate launch` (torch.distributed sets RANK)."""
    return os.environ.get("RANK", "0") == "0"


def _say(text: str) -> None:
    if _main_process():
        out.print(text, markup=False, highlight=False, soft_wrap=True)


def _value(name: str, value: float) -> str:
    """Rates as percentages, losses as they are."""
    if "loss" in name:
        return f"{round(value, 3) + 0.0:.3f}"  # + 0.0: no "-0.000"
    return f"{round(100 * value, 1) + 0.0:.1f}"


def _print_result(run_dir: Path, result) -> None:  # type: ignore[no-untyped-def]
    table = Table(title=f"{result.task.name} · {result.model.name} ({result.model.dtype}; reference "
                        f"{result.task.config['reference']})")
    for col in ("metric", "value [95% CI]", "group", "n"):
        table.add_column(col)
    for name in ("accuracy", "worst_group_accuracy", "worst_group_gap", "preference_loss",
                 "worst_group_preference_loss", "preference_loss_gap", "logprob_accuracy",
                 "worst_group_logprob_accuracy", "worst_group_logprob_gap"):
        m = result.metric(name)
        if m is None:
            continue
        text = "-" if m.value is None else _value(name, m.value)
        if m.value is not None and m.ci_low is not None and m.ci_high is not None:
            text += f" [{_value(name, m.ci_low)}, {_value(name, m.ci_high)}]"
        label = "accuracy (reward)" if name == "accuracy" else name
        table.add_row(label, text, m.group or "", str(m.n))
    print_table(table)
    for bd in result.groups:
        cells = ", ".join(f"{g.group} {_value(bd.metric, g.value or 0.0)} (n={g.n})" for g in bd.groups)
        _say(f"{bd.metric} by {bd.key}: {cells}")
    _say(f"run: {run_dir}")


def _report(runs: Path, report: Path) -> None:
    from harness.report.build import write_report

    path, count = write_report([runs], report)
    _say(f"report: {path} ({count} runs)")


def train_command(
    config: Annotated[Path, typer.Argument(help="Training config YAML (see train/grpo_example.yaml).")],
    output_dir: Annotated[Path | None, typer.Option("--output-dir", help="Model folder; overrides output.dir.")]
    = None,
    resume: Annotated[bool, typer.Option("--resume", help="Continue from the last checkpoint in "
                                                           "the model folder's checkpoints/ folder.")] = False,
    max_steps: Annotated[int | None, typer.Option(min=1, help="Override optimizer.max_steps.")] = None,
    check: Annotated[bool, typer.Option("--check", help="Validate the config and the data (columns, groups, "
                                                         "counts), print the groups and stop; no model loaded.")]
    = False,
    no_eval: Annotated[bool, typer.Option("--no-eval", help="Skip the evaluation after training.")] = False,
    runs: Annotated[Path, typer.Option("--runs", help="Folder for the evaluation's run directory.")] = Path("runs"),
    report: Annotated[Path, typer.Option(help="HTML report refreshed from every run in --runs.")]
    = Path("reports/index.html"),
    no_report: Annotated[bool, typer.Option("--no-report", help="Do not write the HTML report.")] = False,
) -> None:
    """Group-robust DPO/IPO (GRPO) from a YAML config: saves a model folder usable as `harness run --model`,
    then evaluates it per group on the held-out pairs (results in --runs, like `harness run`)."""
    from harness.train.config import load_train_config
    from harness.train.preferences import load_preferences

    try:
        cfg = load_train_config(config)
        data = load_preferences(cfg)
        counts = ", ".join(f"{g}: {n} train / {m} eval" for g, n, m in
                           zip(data.groups, data.counts(data.train), data.counts(data.eval)))
        _say(f"ok  {config} ({cfg.name}; {counts})")
        if check:
            from harness.train.run import start_warnings

            for line in start_warnings(cfg):
                _say(f"warning: {line}")
            return
        from harness.train.eval_run import evaluate
        from harness.train.run import train

        outcome = train(cfg, output_dir=output_dir, resume=resume, max_steps=max_steps, log=_say)
        if not outcome.main_process:  # `accelerate launch`: the main process reports and evaluates
            return
        weights = ", ".join(f"{g} {w:.3f}" for g, w in zip(outcome.groups, outcome.weights))
        on = f" on {outcome.processes} processes" if outcome.processes > 1 else ""
        _say(f"trained {outcome.steps} steps{on} in {outcome.seconds:.0f} s; group weights: {weights}")
        _say(f"model: {outcome.model_dir} (weights in {outcome.weights_dtype}, the dtype `harness run` loads it in)")
        if cfg.spec.eval.enabled and not no_eval and data.eval:
            run_dir, result = evaluate(cfg, model=str(outcome.model_dir), runs_dir=runs, log=_say)
            _print_result(run_dir, result)
            if not no_report:
                _report(runs, report)
    except HarnessError as exc:
        fail(exc)


def train_eval_command(
    config: Annotated[Path, typer.Argument(help="Training config YAML: its data, groups, loss and β.")],
    model: Annotated[str | None, typer.Option("--model", "-m", help="Policy: embedded name, model folder or hub "
                                                                    "id (default: the config's base model).")]
    = None,
    reference: Annotated[str | None, typer.Option(help="Reference policy (default: the config's base model).")]
    = None,
    split: Annotated[str, typer.Option(help="eval (held-out pairs) | validation | train")] = "eval",
    dtype: Annotated[str | None, typer.Option(help="Policy dtype: float32 | bfloat16 | float16 (default: the "
                                                   "dtype a `harness train` folder was saved in, else float32).")]
    = None,
    runs: Annotated[Path, typer.Option("--runs", "--output", "-o", help="Folder for run directories.")]
    = Path("runs"),
    report: Annotated[Path, typer.Option(help="HTML report refreshed from every run in --runs.")]
    = Path("reports/index.html"),
    no_report: Annotated[bool, typer.Option("--no-report", help="Do not write the HTML report.")] = False,
) -> None:
    """Evaluate a preference model per group: reward accuracy, DPO/IPO loss and log-prob accuracy, worst group
    and gap, with CIs; writes results.json and samples.jsonl into a run directory under --runs."""
    from harness.train.config import load_train_config
    from harness.train.eval_run import evaluate

    try:
        if split not in ("eval", "validation", "train"):
            raise HarnessError(f"unknown split '{split}': use eval, validation or train", field="--split")
        if dtype not in (None, "float32", "bfloat16", "float16"):
            raise HarnessError(f"unknown dtype '{dtype}': use float32, bfloat16 or float16", field="--dtype")
        cfg = load_train_config(config)
        run_dir, result = evaluate(cfg, model=model, reference=reference, runs_dir=runs, split=split, dtype=dtype,
                                   log=_say)
        _print_result(run_dir, result)
        if not no_report:
            _report(runs, report)
    except HarnessError as exc:
        fail(exc)


def opinionqa_command(
    source: Annotated[Path, typer.Argument(help="OpinionQA-form CSV (.csv or .csv.gz): qkey, question, options, "
                                                "attribute, group, D_H.")],
    output: Annotated[Path, typer.Argument(help="JSONL file to write (prompt, chosen, rejected, group, ...).")],
    attribute: Annotated[str | None, typer.Option(help="Keep one attribute, e.g. POLIDEOLOGY.")] = None,
    group: Annotated[list[str] | None, typer.Option("--group", help="Keep these groups (repeat the option).")]
    = None,
    max_per_group: Annotated[int | None, typer.Option(min=1, help="At most N pairs per group.")] = None,
    seed: Annotated[int, typer.Option(help="Seed for drawing the rejected option.")] = 0,
) -> None:
    """Build group-labelled preference pairs from survey data: chosen = the group's most chosen option,
    rejected = another option, prompt 'Opinion of people in {group} on: ...'
    (GRPO's OpinionQA setup, docs/training.md)."""
    from collections import Counter

    from harness.train.opinionqa import build_pairs, read_rows, write_jsonl

    try:
        pairs = build_pairs(read_rows(source), attribute=attribute, groups=group, seed=seed,
                            max_per_group=max_per_group, source=source)
        if not pairs:
            raise HarnessError("no preference pairs could be built", file=source)
        write_jsonl(pairs, output)
        counts = Counter(p["group"] for p in pairs)
        _say(f"wrote {len(pairs)} pairs to {output}: " + ", ".join(f"{g} {n}" for g, n in sorted(counts.items())))
    except HarnessError as exc:
        fail(exc)
