"""From a training config to a GroupRobustDPOTrainer: models, tokenizer, TRL's DPOConfig, the objective.

Shared by training (run.py), evaluation (eval_run.py) and the benchmark. Weights load in float32
unless asked otherwise; `trained_dtype` reads the dtype a `harness train` folder was saved in.
"""

from __future__ import annotations

import importlib.util
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from harness.core.errors import HarnessError
from harness.train.config import TrainConfig
from harness.train.preferences import PreferenceData, PreferenceRow, to_dataset

Log = Callable[[str], None]
TRAIN_INFO = "harness_train.json"


def quiet() -> None:
    import datasets
    import transformers

    transformers.utils.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
    datasets.utils.logging.set_verbosity_error()
    datasets.disable_progress_bars()


def slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-")[:60]


def resolve(spec: str | None, config: TrainConfig, field: str) -> Any:
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


def trained_dtype(path: str | Path | None) -> str | None:
    """The dtype a `harness train` model folder was saved in (its harness_train.json), else None."""
    if path is None:
        return None
    info = Path(path) / TRAIN_INFO
    try:
        record = json.loads(info.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    dtype = record.get("weights_dtype") if isinstance(record, dict) else None
    return dtype if dtype in ("float32", "bfloat16", "float16") else None


def dpo_args(config: TrainConfig, output_dir: Path, *, max_steps: int | None = None, eval_only: bool = False) -> Any:
    """TRL's DPOConfig for this config (TRL's defaults that differ from the config's are set explicitly)."""
    import torch
    from trl import DPOConfig

    s = config.spec
    steps = max_steps or s.optimizer.max_steps
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
    mixed = None if eval_only else s.dtype  # evaluation scores in the weights' dtype, policy and reference alike
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
        # the plateau scheduler is made by the trainer (create_scheduler); transformers' own needs its eval loop
        lr_scheduler_type="constant" if opt.lr_scheduler == "reduce_on_plateau" else opt.lr_scheduler,
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


def load_tokenizer(path: str) -> Any:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(path)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def load_model(path: str, dtype: str = "float32") -> Any:
    import torch
    from transformers import AutoModelForCausalLM

    return AutoModelForCausalLM.from_pretrained(path, dtype=getattr(torch, dtype))


def uses_chat(config: TrainConfig, tokenizer: Any) -> bool:
    return config.spec.data.chat_template == "auto" and bool(getattr(tokenizer, "chat_template", None))


def objective(config: TrainConfig, data: PreferenceData) -> Any:
    """The GroupRobustObjective of this config, N_g from the training rows; a bad adjustment names its field."""
    from harness.train.robust import GroupRobustObjective

    r = config.spec.robust
    try:
        return GroupRobustObjective(r.mode, data.counts(data.train), step_size=r.step_size,
                                    scale_by_group_size=r.scale_by_group_size, adjustment=r.adjustment)
    except ValueError as exc:
        raise config.error(f"{exc} ({', '.join(data.groups)})", "robust", "adjustment") from None


def make_trainer(config: TrainConfig, data: PreferenceData, policy: Any, tokenizer: Any, output_dir: Path, *,
                 ref_model: Any = None, rows: list[PreferenceRow] | None = None, max_steps: int | None = None,
                 eval_only: bool = False, lora: bool = True, reference_cache: dict | None = None,  # type: ignore[type-arg]
                 log: Log = lambda _: None) -> Any:
    """A GroupRobustDPOTrainer on `rows` (default: the training rows) with N_g from the training rows, and
    (training with `early_stopping`) the validation callback. `reference_cache`: reference log-probs by row
    id, shared by trainers of the same reference and data (trainer.py)."""
    from harness.train.trainer import GroupRobustDPOTrainer

    s = config.spec
    peft_config = None
    if s.lora is not None and lora:
        from peft import LoraConfig

        peft_config = LoraConfig(r=s.lora.r, lora_alpha=s.lora.alpha, lora_dropout=s.lora.dropout,
                                 target_modules=s.lora.target_modules, task_type="CAUSAL_LM")
    chat = uses_chat(config, tokenizer)
    dataset = to_dataset(rows if rows is not None else data.train, data.groups, chat=chat)
    opt = s.optimizer
    plateau = None
    if opt.lr_scheduler == "reduce_on_plateau" and not eval_only:
        plateau = {"factor": opt.plateau_factor, "patience": opt.plateau_patience,
                   "threshold": s.early_stopping.min_delta if s.early_stopping else 0.0}
    trainer = GroupRobustDPOTrainer(policy, ref_model, dpo_args(config, output_dir, max_steps=max_steps,
                                                                eval_only=eval_only),
                                    groups=data.groups, objective=objective(config, data), train_dataset=dataset,
                                    processing_class=tokenizer, peft_config=peft_config,
                                    step_size_lr_power=s.robust.step_size_lr_power, plateau=plateau,
                                    reference_cache=reference_cache, warn=log)
    if s.early_stopping is not None and not eval_only:
        from harness.train.stopping import WorstGroupValidation

        trainer.add_callback(WorstGroupValidation(trainer, data.validation, data.groups, s.early_stopping,
                                                  chat=chat, batch_size=s.eval.batch_size,
                                                  min_learning_rate=opt.min_learning_rate, log=log))
    return trainer
