"""The training config file (pydantic, extra keys forbidden) and its loader.

A config names the base model, the preference data and its columns, the loss (DPO or IPO,
SPEC.md §3.1), the robust mode (GRPO group weights §3.3–3.4, importance weights, or none), the
optimiser, optional LoRA and the output folder. Every error is one HarnessError naming the file,
the line and the field. Paths inside the file are relative to the file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field

from harness.config.yamlfile import ConfigFile, load_yaml_mapping, validate
from harness.core.records import Strict


class ColumnsSpec(Strict):
    """Which dataset columns hold the preference triple and the group (dotted names reach into objects)."""

    prompt: str = "prompt"
    chosen: str = "chosen"
    rejected: str = "rejected"
    group: str = "group"
    id: str | None = Field(None, description="Column with a stable row id; default: the row number.")


class DataSpec(Strict):
    """Preference rows, read through `datasets.load_dataset` like a task's dataset."""

    path: str = Field(description="Local file (relative to the config file), hub dataset id, or http(s) URL.")
    format: Literal["json", "jsonl", "csv", "parquet"] | None = Field(
        None, description="File format for local files and URLs; inferred from the extension if absent.")
    name: str | None = Field(None, description="Hub dataset subset/config name.")
    split: str = Field("train", description="Hub dataset split.")
    revision: str | None = None
    columns: ColumnsSpec = ColumnsSpec()
    groups: list[str] | None = Field(
        None, min_length=2, description="The groups to train on, in this order; rows of other groups are left "
                                        "out, and every group named must have rows. Default: every group found.")
    split_column: str | None = Field(
        None, description="Column saying which rows are for training and which for evaluation.")
    train_value: str = Field("train", description="Value of `split_column` for training rows.")
    eval_value: str = Field("test", description="Value of `split_column` for evaluation rows.")
    eval_fraction: float = Field(
        0.0, ge=0.0, lt=1.0, description="Without `split_column`: share of each group held out for evaluation "
                                         "(seeded, stratified by group).")
    chat_template: Literal["auto", "none"] = Field(
        "auto", description="auto: prompt as a user turn and answers as assistant turns through the tokenizer's "
                            "chat template (as `harness run` renders prompts); none: plain text.")
    limit: int | None = Field(None, ge=1, description="Use only the first N rows of the file.")


class LossSpec(Strict):
    """The per-example preference loss l(π; x, y_w, y_l) (SPEC.md §3.1)."""

    type: Literal["dpo", "ipo"] = Field(
        "dpo", description="dpo: -log σ(β h); ipo: (h - 1/(2β))², h averaged per completion token as TRL does.")
    beta: float = Field(0.1, gt=0.0, description="β: strength of the implicit KL penalty.")


class RobustSpec(Strict):
    """How per-group losses are combined (SPEC.md §3.3–3.4, §4)."""

    mode: Literal["group_dro", "importance", "none"] = Field(
        "group_dro", description="group_dro: GRPO exponentiated-gradient weights α over groups; importance: fixed "
                                 "α_g ∝ 1/N_g; none: plain DPO/IPO, the mean over the batch (TRL's own loss).")
    step_size: float = Field(0.01, ge=0.0, description="η: step size of the weight update α_g ← α_g·exp(η·L_g).")
    scale_by_group_size: bool = Field(
        True, description="Group loss = (N/N_g)·(sum of the group's losses in the batch)/B, an unbiased estimate "
                          "of L_g under pooled sampling (paper code's divide_by_totalcount); false: the batch mean "
                          "of the group's losses.")
    adjustment: float = Field(0.0, ge=0.0, description="C of Group DRO's generalisation adjustment: the weight "
                                                       "update uses L_g + C/√N_g (§4.1).")


class OptimizerSpec(Strict):
    learning_rate: float = Field(5e-6, gt=0.0)
    batch_size: int = Field(8, ge=1, description="Pairs per device per step.")
    gradient_accumulation_steps: int = Field(1, ge=1)
    max_steps: int | None = Field(None, ge=1, description="Stop after this many optimiser steps (overrides epochs).")
    epochs: float = Field(1.0, gt=0.0)
    weight_decay: float = Field(0.0, ge=0.0)
    warmup_ratio: float = Field(0.0, ge=0.0, lt=1.0)
    lr_scheduler: Literal["linear", "constant", "cosine", "constant_with_warmup"] = "linear"
    max_grad_norm: float = Field(1.0, gt=0.0)
    optim: Literal["adamw_torch", "adamw_torch_fused", "sgd", "adafactor"] = "adamw_torch"
    max_length: int | None = Field(256, ge=8, description="Truncate prompt+answer to this many tokens.")
    gradient_checkpointing: bool = False


class LoraSpec(Strict):
    """Train a LoRA adapter (peft) instead of every weight."""

    r: int = Field(16, ge=1)
    alpha: int = Field(32, ge=1)
    dropout: float = Field(0.05, ge=0.0, lt=1.0)
    target_modules: list[str] | Literal["all-linear"] = "all-linear"
    merge: bool = Field(True, description="Merge the adapter into a full model folder (usable as `harness run "
                                          "--model`); false: save the adapter alone.")


class OutputSpec(Strict):
    dir: str | None = Field(None, description="Model folder (relative to the working directory); default "
                                              "runs/train/<name>. Checkpoints go to <dir>/checkpoints.")
    save_steps: int | None = Field(None, ge=1, description="Checkpoint every N steps (default: at the end only).")
    save_total_limit: int | None = Field(2, ge=1)
    logging_steps: int = Field(1, ge=1, description="Log losses and group weights every N steps.")
    report_to: list[Literal["tensorboard", "wandb", "mlflow", "trackio"]] = Field(
        default_factory=list, description="Trackers to log to (each must be installed).")


class EvalSpec(Strict):
    """The preference evaluation written to results.json after training (and by `harness train-eval`)."""

    enabled: bool = Field(True, description="Evaluate the trained model on the held-out pairs after training.")
    task: str | None = Field(None, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", max_length=100,
                             description="Task name on the leaderboard; default: the data file's stem.")
    batch_size: int = Field(8, ge=1)
    bootstrap_resamples: int = Field(1000, ge=10)
    ci_level: float = Field(0.95, gt=0.0, lt=1.0)
    min_group_size: int = Field(10, ge=1, description="Smaller groups are shown but never crowned worst.")


class TrainSpec(Strict):
    name: str | None = Field(None, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", max_length=100,
                             description="Run name; default: the config file's stem.")
    model: str | None = Field(None, description="Base model: embedded name, local folder or hub id (default: the "
                                                "embedded SmolLM2-135M-Instruct). It is also the reference policy.")
    data: DataSpec
    loss: LossSpec = LossSpec()
    robust: RobustSpec = RobustSpec()
    optimizer: OptimizerSpec = OptimizerSpec()
    lora: LoraSpec | None = None
    output: OutputSpec = OutputSpec()
    eval: EvalSpec = EvalSpec()
    seed: int = 0
    dtype: Literal["float32", "bfloat16", "float16"] = "float32"
    device: Literal["auto", "cpu", "cuda"] = "auto"


class TrainConfig(ConfigFile):
    """A validated config file: the spec plus where it lives (for paths and error lines)."""

    spec: TrainSpec

    @property
    def name(self) -> str:
        return self.spec.name or self.file.stem

    @property
    def output_dir(self) -> Path:
        return Path(self.spec.output.dir) if self.spec.output.dir else Path("runs") / "train" / self.name



def load_train_config(file: str | Path) -> TrainConfig:
    """Read and validate a training config; raise HarnessError naming file, line and field."""
    file = Path(file)
    doc = load_yaml_mapping(file)
    spec = validate(TrainSpec, doc)
    config = TrainConfig(spec=spec, file=file, doc=doc)
    if spec.data.split_column is not None and spec.data.eval_fraction > 0:
        raise config.error("give either data.split_column or data.eval_fraction, not both", "data", "eval_fraction")
    return config
