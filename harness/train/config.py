"""The training config file (pydantic, extra keys forbidden) and its loader.

A config names the base model, the preference data and its columns, the loss (DPO or IPO,
SPEC.md §3.1), the robust mode (GRPO group weights §3.3–3.4, two importance-weighting baselines,
or none), the optimiser, optional early stopping on the worst group's validation loss, optional
LoRA and the output folder. Every error is one HarnessError naming the file, the line and the
field. Paths inside the file are relative to the file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator

from harness.config.yamlfile import ConfigFile, load_yaml_mapping, validate
from harness.core.records import Strict


class ColumnsSpec(Strict):
    """Which dataset columns hold the preference triple and the group (dotted names reach into objects)."""

    prompt: str = "prompt"
    chosen: str = "chosen"
    rejected: str = "rejected"
    group: str = "group"
    id: str | None = Field(None, description="Column with a stable row id; default: the row number.")
    cluster: str | None = Field(None, description="Column naming the unit rows were sampled in (the fact several "
                                                  "paraphrased pairs share): bootstrap CIs resample clusters and a "
                                                  "validation split keeps each cluster whole. Default: every pair "
                                                  "its own cluster.")


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
    validation_value: str | None = Field(
        None, description="Value of `split_column` for validation rows (early stopping), apart from both.")
    validation_fraction: float = Field(
        0.0, ge=0.0, lt=1.0, description="Share of each group's training clusters moved to validation (seeded; "
                                         "whole clusters, so no paraphrase of a validation fact is trained on).")
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

    mode: Literal["group_dro", "importance_inverse_square", "importance_balanced", "none"] = Field(
        "group_dro", description="group_dro: GRPO exponentiated-gradient weights α over groups (η = 0: fixed "
                                 "uniform α); importance_inverse_square: fixed α_g ∝ 1/N_g on the group losses, "
                                 "each pair weighted ∝ 1/N_g² (the official code's importance sampling); "
                                 "importance_balanced: each pair weighted ∝ 1/N_g, normalised within the batch; "
                                 "none: plain DPO/IPO, the mean over the batch (TRL's own loss).")
    step_size: float = Field(0.01, ge=0.0, description="η: step size of the weight update α_g ← α_g·exp(η·L_g).")
    step_size_lr_power: float = Field(
        0.0, ge=0.0, description="η follows the learning rate: η_t = η·(lr_t/lr)^p. 0: constant; 1: proportional; "
                                 "log 0.5 / log 0.1 = 0.301: η halves at every ×0.1 plateau cut (released runs).")
    scale_by_group_size: bool = Field(
        True, description="Group loss = (N/N_g)·(sum of the group's losses in the batch)/B, an unbiased estimate "
                          "of L_g under pooled sampling (paper code's divide_by_totalcount); false: the batch mean "
                          "of the group's losses.")
    adjustment: float | list[float] = Field(
        0.0, description="C_g of Group DRO's generalisation adjustment, one value or one per group (in data.groups "
                         "order): the weight update uses L_g + C_g/√N_g (§4.1). The official code's adj is B·C_g "
                         "(B pairs per update), its step size η/B.")

    @field_validator("mode", mode="before")
    @classmethod
    def _renamed(cls, value: object) -> object:
        if value == "importance":
            raise ValueError("'importance' was split in two: importance_inverse_square (α_g ∝ 1/N_g, each pair "
                             "∝ 1/N_g², the official code) or importance_balanced (each pair ∝ 1/N_g)")
        return value

    @field_validator("adjustment")
    @classmethod
    def _non_negative(cls, value: float | list[float]) -> float | list[float]:
        values = value if isinstance(value, list) else [value]
        if not values or min(values) < 0:
            raise ValueError("adjustments must be one or more numbers >= 0")
        return value


class OptimizerSpec(Strict):
    learning_rate: float = Field(5e-6, gt=0.0)
    batch_size: int = Field(8, ge=1, description="Pairs per device per step.")
    gradient_accumulation_steps: int = Field(1, ge=1)
    max_steps: int | None = Field(None, ge=1, description="Stop after this many optimiser steps (overrides epochs).")
    epochs: float = Field(1.0, gt=0.0)
    weight_decay: float = Field(0.0, ge=0.0)
    warmup_ratio: float = Field(0.0, ge=0.0, lt=1.0)
    lr_scheduler: Literal["linear", "constant", "cosine", "constant_with_warmup", "reduce_on_plateau"] = Field(
        "linear", description="reduce_on_plateau: LR × plateau_factor when the worst group's validation loss has not "
                              "improved for plateau_patience evaluations (needs early_stopping).")
    plateau_factor: float = Field(0.1, gt=0.0, lt=1.0)
    plateau_patience: int = Field(1, ge=0)
    min_learning_rate: float = Field(0.0, ge=0.0, description="reduce_on_plateau: stop once a cut takes the LR "
                                                              "below this (released runs: 1e-8).")
    max_grad_norm: float = Field(1.0, gt=0.0)
    optim: Literal["adamw_torch", "adamw_torch_fused", "sgd", "adafactor"] = "adamw_torch"
    max_length: int | None = Field(256, ge=8, description="Truncate prompt+answer to this many tokens.")
    gradient_checkpointing: bool = False


class EarlyStoppingSpec(Strict):
    """Score the validation pairs every `eval_steps` optimiser steps; the worst group's mean loss decides."""

    eval_steps: int = Field(ge=1, description="Evaluate the validation pairs every N optimiser steps.")
    patience: int | None = Field(3, ge=1, description="Stop after N evaluations without a lower worst-group "
                                                      "validation loss; null: never stop early.")
    min_delta: float = Field(0.0, ge=0.0, description="An evaluation counts as better only if lower by more.")
    restore_best: bool = Field(True, description="End with the weights of the best evaluation.")


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
    early_stopping: EarlyStoppingSpec | None = None
    lora: LoraSpec | None = None
    output: OutputSpec = OutputSpec()
    eval: EvalSpec = EvalSpec()
    seed: int = 0
    dtype: Literal["float32", "bfloat16", "float16"] = Field(
        "float32", description="bfloat16/float16: mixed-precision autocast; the weights train and are saved in "
                               "float32, and `harness run` loads the saved dtype by default.")
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
    if spec.data.validation_value is not None and spec.data.split_column is None:
        raise config.error("data.validation_value needs data.split_column", "data", "validation_value")
    if spec.data.validation_value is not None and spec.data.validation_fraction > 0:
        raise config.error("give either data.validation_value or data.validation_fraction, not both",
                           "data", "validation_fraction")
    has_validation = spec.data.validation_value is not None or spec.data.validation_fraction > 0
    if spec.early_stopping is not None and not has_validation:
        raise config.error("early stopping needs validation rows: set data.validation_fraction or "
                           "data.validation_value", "early_stopping")
    if spec.optimizer.lr_scheduler == "reduce_on_plateau" and spec.early_stopping is None:
        raise config.error("reduce_on_plateau cuts the LR on the validation loss: add an early_stopping block "
                           "(its eval_steps)", "optimizer", "lr_scheduler")
    return config
