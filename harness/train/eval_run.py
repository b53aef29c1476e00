"""Evaluate a preference policy against its reference into a run directory: `harness train-eval` and the
evaluation after `harness train` (SPEC.md §3.5).

The policy loads in the dtype its folder was trained and saved in (harness_train.json; float32
for any other model) unless a dtype is given, the reference in float32; the policy's dtype is
recorded in results.json (model.dtype). Writes runs/<id>/results.json and samples.jsonl in the
harness results schema, so `harness report` shows them.
"""

from __future__ import annotations

import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from harness.train.build import (
    Log,
    load_model,
    load_tokenizer,
    make_trainer,
    quiet,
    resolve,
    slug,
    trained_dtype,
    uses_chat,
)
from harness.train.config import TrainConfig
from harness.train.evaluate import preference_metrics, to_sample
from harness.train.preferences import load_preferences
from harness.train.scoring import score_pairs


def task_name(config: TrainConfig) -> str:
    """The leaderboard's task column for preference evaluations of this config's data."""
    if config.spec.eval.task:
        return config.spec.eval.task
    return slug(Path(config.spec.data.path.split("?")[0]).stem) or "preferences"


def evaluate(config: TrainConfig, *, model: str | None = None, reference: str | None = None,
             runs_dir: Path = Path("runs"), split: str = "eval", dtype: str | None = None,
             log: Log = lambda _: None) -> tuple[Path, Any]:
    """Score `model` (default: the config's base model) against `reference` (default: the base model) on the
    config's held-out pairs (split="eval"), validation pairs or training pairs; write a run directory; return it
    and the result. `dtype`: the policy's (default: the dtype its folder was trained in, else float32)."""
    from harness.backends.models import describe
    from harness.results import environment
    from harness.results.io import write_run
    from harness.results.schema import Counts, RunResult, Settings, TaskRecord, Timing

    quiet()
    started = time.perf_counter()
    data = load_preferences(config)
    rows = {"eval": data.eval, "validation": data.validation, "train": data.train}[split]
    if not rows:
        raise config.error(f"no {split} rows: set data.split_column or data.{split}_fraction", "data")
    policy = resolve(model, config, "--model") if model else resolve(config.spec.model, config, "model")
    ref = resolve(reference, config, "--reference") if reference else resolve(config.spec.model, config, "model")
    tokenizer = load_tokenizer(policy.path)
    chat = uses_chat(config, tokenizer)
    saved = trained_dtype(policy.path)
    policy_dtype = dtype or saved or "float32"
    dtype_source = "--dtype" if dtype else ("harness_train.json" if saved else "default")
    load_started = time.perf_counter()
    policy_model, ref_model = load_model(policy.path, policy_dtype), load_model(ref.path)
    model_load_s = time.perf_counter() - load_started
    with tempfile.TemporaryDirectory(prefix="harness-train-eval-") as tmp:
        trainer = make_trainer(config, data, policy_model, tokenizer, Path(tmp), ref_model=ref_model, rows=rows,
                               eval_only=True, lora=False)
        infer_started = time.perf_counter()
        scores = score_pairs(trainer, rows, data.groups, chat=chat, batch_size=config.spec.eval.batch_size)
        inference_s = time.perf_counter() - infer_started
        device = str(trainer.args.device)
    if len(scores) < len(rows):
        log(f"{len(rows) - len(scores)} pairs left out: their prompt alone fills optimizer.max_length")
    e = config.spec.eval
    metrics, breakdowns = preference_metrics(scores, loss_type=config.spec.loss.type, seed=config.spec.seed,
                                             resamples=e.bootstrap_resamples, level=e.ci_level,
                                             min_group_size=e.min_group_size,
                                             cluster_column=config.spec.data.columns.cluster)
    name = task_name(config)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    run_dir = runs_dir / f"{stamp}-{slug(name)}-{slug(policy.name)}"
    n = 1
    while run_dir.exists():
        n += 1
        run_dir = runs_dir / f"{stamp}-{slug(name)}-{slug(policy.name)}-{n}"
    task_config = {"kind": "preference", "split": split, "reference": ref.name, "reference_path": ref.path,
                   "policy_dtype": policy_dtype, "policy_dtype_source": dtype_source, "reference_dtype": "float32",
                   "train_config": config.spec.model_dump(mode="json")}
    result = RunResult(
        run_id=run_dir.name,
        created_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        task=TaskRecord(name=name, version=1, file=str(config.file), config_hash=config.config_hash,
                        config=task_config),
        model=describe(policy, backend="hf", dtype=policy_dtype, device=device,
                       chat_template=getattr(tokenizer, "chat_template", None)),
        settings=Settings(seed=config.spec.seed, batch_size=e.batch_size, limit=config.spec.data.limit,
                          bootstrap_resamples=e.bootstrap_resamples, ci_level=e.ci_level,
                          min_group_size=e.min_group_size),
        environment=environment.capture(),
        counts=Counts(items=len(scores), samples=len(scores), requests_unique=len(scores), invalid=0),
        metrics=metrics,
        groups=breakdowns,
        timing=Timing(total_s=round(time.perf_counter() - started, 3), model_load_s=round(model_load_s, 3),
                      inference_s=round(inference_s, 3), model_s=round(inference_s, 3)),
    )
    write_run(run_dir, result, [to_sample(s) for s in scores])
    return run_dir, result
