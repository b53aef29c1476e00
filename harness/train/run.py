"""Train from a config: the steps behind `harness train`.

config -> preference rows -> GroupRobustDPOTrainer (TRL) -> a model folder (config.json, weights
in the dtype they trained in, tokenizer, chat template; LoRA merged by default) that `harness run
--model` accepts and loads in that dtype by default, plus harness_train.json (base model, config,
weights dtype, group weights, the official code's equivalent η and adj, early stopping, warnings)
and train_log.json (every logged step). Checkpoints go to <model folder>/checkpoints and resume
with their group weights.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.core.errors import HarnessError
from harness.train.build import TRAIN_INFO, Log, load_model, load_tokenizer, make_trainer, quiet, resolve
from harness.train.config import TrainConfig
from harness.train.preferences import PreferenceData, load_preferences


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
    weights_dtype: str = "float32"
    warnings: tuple[str, ...] = ()


def start_warnings(config: TrainConfig) -> list[str]:
    """Problems known before the first step (the group weights' collapse under IPO's scale)."""
    from harness.train.robust import collapse_warning

    s = config.spec
    if s.robust.mode != "group_dro" or s.robust.step_size == 0:
        return []
    found = collapse_warning(s.loss.type, s.loss.beta, s.robust.step_size)
    return [found] if found else []


def fit(config: TrainConfig, data: PreferenceData, policy: Any, tokenizer: Any, checkpoints: Path, *,
        ref_model: Any = None, resume_from: str | None = None, max_steps: int | None = None,
        model_name: str = "the policy", reference_cache: dict | None = None,  # type: ignore[type-arg]
        log: Log = lambda _: None) -> Any:
    """Train `policy` in memory and return the trainer (the benchmark's path; `train` adds the folder)."""
    warnings = start_warnings(config)
    trainer = make_trainer(config, data, policy, tokenizer, checkpoints, ref_model=ref_model, max_steps=max_steps,
                           reference_cache=reference_cache, log=log)
    trainer.warnings[:0] = warnings
    if trainer.accelerator.is_main_process:
        s = config.spec
        validation = f", {len(data.validation)} validation pairs" if data.validation else ""
        log(f"training {s.robust.mode} ({s.loss.type}, β={s.loss.beta}) on {model_name}, {len(data.train)} pairs"
            f"{validation}, device {trainer.args.device}, {trainer.accelerator.num_processes} process(es)")
        for line in warnings:
            log(f"warning: {line}")
    _print_steps(trainer, data.groups, log)
    trainer.train(resume_from_checkpoint=resume_from)
    return trainer


def train(config: TrainConfig, *, output_dir: Path | None = None, resume: bool = False,
          max_steps: int | None = None, log: Log = lambda _: None) -> TrainOutcome:
    """Train per the config; save the model folder; return where it is and the final group weights."""
    quiet()
    data = load_preferences(config)
    base = resolve(config.spec.model, config, "model")
    out = output_dir or config.output_dir
    checkpoints = out / "checkpoints"
    resume_from: str | None = None
    if resume:
        from transformers.trainer_utils import get_last_checkpoint

        resume_from = get_last_checkpoint(str(checkpoints)) if checkpoints.is_dir() else None
        if resume_from is None:
            raise HarnessError(f"no checkpoint to resume from in {checkpoints}")
    tokenizer = load_tokenizer(base.path)
    started = time.perf_counter()
    trainer = fit(config, data, load_model(base.path), tokenizer, checkpoints, resume_from=resume_from,
                  max_steps=max_steps, model_name=base.name, log=log)
    seconds = time.perf_counter() - started
    weights = list(trainer.group_weights.weights)
    history = list(trainer.state.log_history)
    accelerator = trainer.accelerator
    accelerator.wait_for_everyone()
    dtype = str(next(accelerator.unwrap_model(trainer.model).parameters()).dtype).removeprefix("torch.")
    if accelerator.is_main_process:  # under `accelerate launch` every process trains, one writes
        save_model(trainer, tokenizer, config, out, base=base, data=data, weights=weights, seconds=seconds)
        (out / "train_log.json").write_text(json.dumps(history, indent=1) + "\n", encoding="utf-8")
    accelerator.wait_for_everyone()
    return TrainOutcome(model_dir=out, groups=data.groups, train_counts=data.counts(data.train), weights=weights,
                        steps=trainer.state.global_step, seconds=seconds, log_history=history,
                        main_process=accelerator.is_main_process, processes=accelerator.num_processes,
                        weights_dtype=dtype, warnings=tuple(trainer.warnings))


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
    dtype = next(model.parameters()).dtype
    model.config.dtype = dtype  # config.json names the dtype the weights trained and are saved in
    model.save_pretrained(str(target), safe_serialization=True)
    tokenizer.save_pretrained(str(target))
    import trl

    from harness.train.robust import official_equivalent
    from harness.train.stopping import WorstGroupValidation

    s = config.spec
    batch = s.optimizer.batch_size * trainer.accelerator.num_processes
    stopping = [cb for cb in trainer.callback_handler.callbacks if isinstance(cb, WorstGroupValidation)]
    record = {
        "base_model": base.name, "base_path": base.path, "base_weights_sha256": base.weights_sha256,
        "config_file": str(config.file), "config_hash": config.config_hash,
        "config": s.model_dump(mode="json"), "adapter_only": adapter_only,
        "weights_dtype": str(dtype).removeprefix("torch."), "autocast": None if s.dtype == "float32" else s.dtype,
        "groups": data.groups, "train_counts": data.counts(data.train), "final_group_weights": weights,
        "official_equivalent": official_equivalent(s.robust.step_size, trainer.objective.adjustment, batch),
        "early_stopping": stopping[0].summary() if stopping else None, "warnings": trainer.warnings,
        "steps": trainer.state.global_step, "train_seconds": round(seconds, 1), "trl_version": trl.__version__,
    }
    (out / TRAIN_INFO).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
