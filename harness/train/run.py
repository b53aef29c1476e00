"""Train from a config and evaluate preference models: the steps behind `harness train` and `train-eval`.

train: config -> preference rows -> GroupRobustDPOTrainer (TRL) -> a model folder (config.json,
weights, tokenizer, chat template; LoRA merged by default) that `harness run --model` accepts,
plus harness_train.json (base model, config, group weights) and train_log.json (every logged
step). Checkpoints go to <model folder>/checkpoints and resume with their group weights.
evaluate: a policy and its reference on the held-out pairs -> runs/<id>/results.json and
samples.jsonl in the harness results schema (SPEC.md §3.5), so `harness report` shows them.
"""

from __future__ import annotations

import importlib.util
import json
import re
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from harness.core.errors import HarnessError
from harness.train.config import TrainConfig
from harness.train.evaluate import PairScore, preference_metrics, to_sample
from harness.train.preferences import PreferenceData, PreferenceRow, load_preferences, to_dataset

Log = Callable[[str], None]
TRAIN_INFO = "harness_train.json"


def _quiet() -> None:
    import datasets
    import transformers

    transformers.utils.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
    datasets.utils.logging.set_verbosity_error()
    datasets.disable_progress_bars()


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-")[:60]


def _resolve(spec: str | None, config: TrainConfig, field: str) -> Any:
    """resolve_model, its errors pointed at the config's field or at a command-line option (`--model`)."""
    from harness.backends.models import resolve_model

    try:
        return resolve_model(spec)
    except HarnessError as exc:
        if exc.file is None and field.startswith("--"):
            raise HarnessError(exc.message, field=field) from None
        if exc.file is None:
            raise config.error(exc.message, field) from None
        raise


def dpo_args(config: TrainConfig, output_dir: Path, *, max_steps: int | None = None, eval_only: bool = False) -> Any:
    """TRL's DPOConfig for this config (TRL's defaults that differ from the config's are set explicitly)."""
    import torch
    from trl import DPOConfig

    s = config.spec
    opt = s.optimizer
    steps = max_steps or opt.max_steps
    save = s.output.save_steps is not None and not eval_only
    if s.device == "cuda" and not torch.cuda.is_available():
        raise config.error("no CUDA GPU is visible", "device")
    use_cpu = s.device == "cpu" or not torch.cuda.is_available()
    for i, tracker in enumerate(s.output.report_to):
        package = {"tensorboard": "tensorboard"}.get(tracker, tracker)
        if importlib.util.find_spec(package) is None and not (tracker == "tensorboard"
                                                              and importlib.util.find_spec("tensorboardX")):
            raise config.error(f"logging to {tracker} needs the package '{package}' (pip install {package})",
                               "output", "report_to", i)
    mixed = None if eval_only else s.dtype  # evaluation scores in float32, policy and reference alike
    try:
        return _dpo_config(DPOConfig, config, output_dir, steps=steps, save=save, use_cpu=use_cpu, mixed=mixed)
    except ValueError as exc:  # transformers/TRL refuse a combination of settings
        raise config.error(" ".join(str(exc).split())[:300]) from None


def _dpo_config(DPOConfig: Any, config: TrainConfig, output_dir: Path, *, steps: int | None, save: bool,  # noqa: N803
                use_cpu: bool, mixed: str | None) -> Any:
    s = config.spec
    opt = s.optimizer
    return DPOConfig(
        output_dir=str(output_dir),
        seed=s.seed,
        beta=s.loss.beta,
        loss_type="ipo" if s.loss.type == "ipo" else "sigmoid",
        max_length=opt.max_length,
        learning_rate=opt.learning_rate,
        per_device_train_batch_size=opt.batch_size,
        per_device_eval_batch_size=s.eval.batch_size,
        gradient_accumulation_steps=opt.gradient_accumulation_steps,
        num_train_epochs=opt.epochs,
        max_steps=steps if steps is not None else -1,
        weight_decay=opt.weight_decay,
        warmup_steps=opt.warmup_ratio,
        lr_scheduler_type=opt.lr_scheduler,
        max_grad_norm=opt.max_grad_norm,
        optim=opt.optim,
        gradient_checkpointing=opt.gradient_checkpointing,
        bf16=mixed == "bfloat16",
        fp16=mixed == "float16",
        use_cpu=use_cpu,
        dataloader_pin_memory=not use_cpu,
        logging_steps=s.output.logging_steps,
        save_strategy="steps" if save else "no",
        save_steps=s.output.save_steps or 500,
        save_total_limit=s.output.save_total_limit,
        report_to=list(s.output.report_to) or "none",
        restore_callback_states_from_checkpoint=True,
        disable_tqdm=True,
        ddp_find_unused_parameters=False,
        remove_unused_columns=True,
    )


def _tokenizer(path: str) -> Any:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(path)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def _model(path: str) -> Any:
    import torch
    from transformers import AutoModelForCausalLM

    return AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32)


def _uses_chat(config: TrainConfig, tokenizer: Any) -> bool:
    return config.spec.data.chat_template == "auto" and bool(getattr(tokenizer, "chat_template", None))


def make_trainer(config: TrainConfig, data: PreferenceData, policy: Any, tokenizer: Any, output_dir: Path, *,
                 ref_model: Any = None, rows: list[PreferenceRow] | None = None, max_steps: int | None = None,
                 eval_only: bool = False, lora: bool = True) -> Any:
    """A GroupRobustDPOTrainer on `rows` (default: the training rows) with N_g from the training rows."""
    from harness.train.robust import GroupRobustObjective
    from harness.train.trainer import GroupRobustDPOTrainer

    s = config.spec
    objective = GroupRobustObjective(s.robust.mode, data.counts(data.train), step_size=s.robust.step_size,
                                     scale_by_group_size=s.robust.scale_by_group_size,
                                     adjustment=s.robust.adjustment)
    peft_config = None
    if s.lora is not None and lora:
        from peft import LoraConfig

        peft_config = LoraConfig(r=s.lora.r, lora_alpha=s.lora.alpha, lora_dropout=s.lora.dropout,
                                 target_modules=s.lora.target_modules, task_type="CAUSAL_LM")
    dataset = to_dataset(rows if rows is not None else data.train, data.groups, chat=_uses_chat(config, tokenizer))
    return GroupRobustDPOTrainer(policy, ref_model, dpo_args(config, output_dir, max_steps=max_steps,
                                                             eval_only=eval_only),
                                 groups=data.groups, objective=objective, train_dataset=dataset,
                                 processing_class=tokenizer, peft_config=peft_config)


@dataclass(frozen=True)
class TrainOutcome:
    model_dir: Path
    groups: list[str]
    train_counts: list[int]
    weights: list[float]
    steps: int
    seconds: float
    log_history: list[dict[str, Any]]
    main_process: bool = True
    processes: int = 1


def train(config: TrainConfig, *, output_dir: Path | None = None, resume: bool = False,
          max_steps: int | None = None, log: Log = lambda _: None) -> TrainOutcome:
    """Train per the config; save the model folder; return where it is and the final group weights."""
    _quiet()
    data = load_preferences(config)
    base = _resolve(config.spec.model, config, "model")
    out = output_dir or config.output_dir
    checkpoints = out / "checkpoints"
    resume_from: str | None = None
    if resume:
        from transformers.trainer_utils import get_last_checkpoint

        resume_from = get_last_checkpoint(str(checkpoints)) if checkpoints.is_dir() else None
        if resume_from is None:
            raise HarnessError(f"no checkpoint to resume from in {checkpoints}")
    tokenizer = _tokenizer(base.path)
    started = time.perf_counter()
    trainer = make_trainer(config, data, _model(base.path), tokenizer, checkpoints, max_steps=max_steps)
    if trainer.accelerator.is_main_process:
        log(f"training {config.spec.robust.mode} ({config.spec.loss.type}, β={config.spec.loss.beta}) on "
            f"{base.name}, {len(trainer.train_dataset)} pairs, device {trainer.args.device}, "
            f"{trainer.accelerator.num_processes} process(es)")
    _print_steps(trainer, data.groups, log)
    trainer.train(resume_from_checkpoint=resume_from)
    seconds = time.perf_counter() - started
    weights = list(trainer.group_weights.weights)
    history = list(trainer.state.log_history)
    accelerator = trainer.accelerator
    accelerator.wait_for_everyone()
    if accelerator.is_main_process:  # under `accelerate launch` every process trains, one writes
        save_model(trainer, tokenizer, config, out, base=base, data=data, weights=weights, seconds=seconds)
        (out / "train_log.json").write_text(json.dumps(history, indent=1) + "\n", encoding="utf-8")
    accelerator.wait_for_everyone()
    return TrainOutcome(model_dir=out, groups=data.groups, train_counts=data.counts(data.train), weights=weights,
                        steps=trainer.state.global_step, seconds=seconds, log_history=history,
                        main_process=accelerator.is_main_process, processes=accelerator.num_processes)


def _print_steps(trainer: Any, groups: list[str], log: Log) -> None:
    """Replace transformers' dict printer with one line per logging step: loss, group losses and weights."""
    from transformers import TrainerCallback
    from transformers.trainer_callback import PrinterCallback

    class StepLine(TrainerCallback):
        def on_log(self, args: Any, state: Any, control: Any, logs: dict[str, Any] | None = None,
                   **kwargs: Any) -> None:
            if not state.is_world_process_zero or not logs or "loss" not in logs:
                return
            parts = [f"step {state.global_step}/{state.max_steps}: loss {logs['loss']:.4f}"]
            if "rewards/accuracies" in logs:
                parts.append(f"reward acc {logs['rewards/accuracies']:.2f}")
            losses = [f"{g} {logs[f'group_loss/{g}']:.3f}" for g in groups if f"group_loss/{g}" in logs]
            parts.append("group loss " + ", ".join(losses))
            if f"group_weight/{groups[0]}" in logs:
                parts.append("weights " + ", ".join(f"{logs[f'group_weight/{g}']:.3f}" for g in groups))
            log(" | ".join(parts))

    trainer.remove_callback(PrinterCallback)
    trainer.add_callback(StepLine())


def save_model(trainer: Any, tokenizer: Any, config: TrainConfig, out: Path, *, base: Any, data: PreferenceData,
               weights: list[float], seconds: float) -> None:
    """A full transformers folder (LoRA merged unless lora.merge is false) with the tokenizer and a record."""
    from accelerate.utils import is_peft_model

    out.mkdir(parents=True, exist_ok=True)
    model = trainer.accelerator.unwrap_model(trainer.model)
    adapter_only = False
    if is_peft_model(model):
        if config.spec.lora is not None and config.spec.lora.merge:
            model = model.merge_and_unload()
        else:
            adapter_only = True
    target = out / "adapter" if adapter_only else out
    if hasattr(model.config, "use_cache"):
        model.config.use_cache = True  # training turns the KV cache off; generation wants it back
    model.save_pretrained(str(target), safe_serialization=True)
    tokenizer.save_pretrained(str(target))
    import trl

    record = {
        "base_model": base.name, "base_path": base.path, "base_weights_sha256": base.weights_sha256,
        "config_file": str(config.file), "config_hash": config.config_hash,
        "config": config.spec.model_dump(mode="json"), "adapter_only": adapter_only,
        "groups": data.groups, "train_counts": data.counts(data.train), "final_group_weights": weights,
        "steps": trainer.state.global_step, "train_seconds": round(seconds, 1), "trl_version": trl.__version__,
    }
    (out / TRAIN_INFO).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")


def score_pairs(trainer: Any, rows: list[PreferenceRow], groups: list[str], *, chat: bool,
                batch_size: int) -> list[PairScore]:
    """Policy and reference log-probs and the per-example loss of every pair (those TRL keeps: a prompt
    that alone fills max_length is dropped, as in training)."""
    import torch
    from torch.utils.data import DataLoader

    prepared = trainer._prepare_dataset(to_dataset(rows, groups, chat=chat), trainer.processing_class,
                                        trainer.args, "eval")
    by_id = {r.id: r for r in rows}
    row_ids = prepared["row_id"]
    prompt_lengths = [len(p) for p in prepared["prompt_ids"]]
    loader = DataLoader(prepared, batch_size=batch_size, shuffle=False, collate_fn=trainer.data_collator)
    trainer.model.eval()
    scores: list[PairScore] = []
    beta = float(trainer.beta)
    with torch.no_grad():
        for batch in loader:
            inputs = trainer._prepare_inputs(batch)
            terms = trainer.preference_terms(trainer.model, inputs)
            losses = trainer.per_example_loss(terms).tolist()
            values = zip(terms.chosen_logps.tolist(), terms.rejected_logps.tolist(), terms.ref_chosen_logps.tolist(),
                         terms.ref_rejected_logps.tolist(), losses)
            for cw, cl, rw, rl, loss in values:
                i = len(scores)
                scores.append(PairScore(by_id[row_ids[i]], cw, cl, rw, rl, loss, beta, prompt_lengths[i]))
    return scores


def task_name(config: TrainConfig) -> str:
    """The leaderboard's task column for preference evaluations of this config's data."""
    if config.spec.eval.task:
        return config.spec.eval.task
    return _slug(Path(config.spec.data.path.split("?")[0]).stem) or "preferences"


def evaluate(config: TrainConfig, *, model: str | None = None, reference: str | None = None,
             runs_dir: Path = Path("runs"), split: str = "eval", log: Log = lambda _: None) -> tuple[Path, Any]:
    """Score `model` (default: the config's base model) against `reference` (default: the base model) on the
    config's held-out pairs (split="eval") or training pairs; write a run directory; return it and the result."""
    from harness.backends.models import describe
    from harness.results import environment
    from harness.results.io import write_run
    from harness.results.schema import Counts, RunResult, Settings, TaskRecord, Timing

    _quiet()
    started = time.perf_counter()
    data = load_preferences(config)
    rows = data.eval if split == "eval" else data.train
    if not rows:
        raise config.error("no evaluation rows: set data.split_column or data.eval_fraction", "data")
    policy = _resolve(model, config, "--model") if model else _resolve(config.spec.model, config, "model")
    ref = _resolve(reference, config, "--reference") if reference else _resolve(config.spec.model, config, "model")
    tokenizer = _tokenizer(policy.path)
    chat = _uses_chat(config, tokenizer)
    load_started = time.perf_counter()
    policy_model, ref_model = _model(policy.path), _model(ref.path)
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
                                             min_group_size=e.min_group_size)
    name = task_name(config)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    run_dir = runs_dir / f"{stamp}-{_slug(name)}-{_slug(policy.name)}"
    n = 1
    while run_dir.exists():
        n += 1
        run_dir = runs_dir / f"{stamp}-{_slug(name)}-{_slug(policy.name)}-{n}"
    task_config = {"kind": "preference", "split": split, "reference": ref.name, "reference_path": ref.path,
                   "train_config": config.spec.model_dump(mode="json")}
    result = RunResult(
        run_id=run_dir.name,
        created_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        task=TaskRecord(name=name, version=1, file=str(config.file), config_hash=config.config_hash,
                        config=task_config),
        model=describe(policy, backend="hf", dtype="float32", device=device,
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
