"""Early stopping on the worst group's validation loss, and the plateau learning-rate cut it drives.

Every `early_stopping.eval_steps` optimiser steps the validation pairs are scored (policy against
the fixed reference, whose log-probs are computed once) and

    V = max_g mean_{i ∈ validation, group g} l_i        (the worst group's validation loss)

is compared with the best so far: lower by more than `min_delta` is a new best (its weights are
kept in memory when `restore_best`), otherwise a bad evaluation. After `patience` bad evaluations
in a row training stops. With `optimizer.lr_scheduler: reduce_on_plateau` each V also steps the
ReduceLROnPlateau scheduler (LR × plateau_factor after plateau_patience bad evaluations), and a cut
below `min_learning_rate` stops training, as the released GRPO runs do (SPEC.md §3.4). At the end
the best weights are restored. V and the per-group validation losses are logged like the training
metrics (`val_worst_group_loss`, `val_group_loss/<g>`). The state lives in memory only: after
`--resume` the best is the best seen since resuming.
"""

from __future__ import annotations

from typing import Any

from transformers import Trainer, TrainerCallback

from harness.train.build import Log
from harness.train.config import EarlyStoppingSpec
from harness.train.preferences import PreferenceRow
from harness.train.scoring import ReferenceCache, score_pairs


def worst_group_loss(losses: list[float], groups: list[str]) -> tuple[float, dict[str, float]]:
    """max_g of the group means, and the means (groups without pairs are left out)."""
    sums: dict[str, list[float]] = {}
    for loss, g in zip(losses, groups):
        sums.setdefault(g, []).append(loss)
    means = {g: sum(v) / len(v) for g, v in sums.items()}
    return max(means.values()), means


class WorstGroupValidation(TrainerCallback):
    """Scores the validation pairs every `eval_steps` steps; stops, cuts the LR and restores the best weights."""

    def __init__(self, trainer: Any, rows: list[PreferenceRow], groups: list[str], spec: EarlyStoppingSpec, *,
                 chat: bool, batch_size: int, min_learning_rate: float = 0.0, log: Log = lambda _: None) -> None:
        self.trainer = trainer
        self.rows = rows
        self.groups = groups
        self.spec = spec
        self.chat = chat
        self.batch_size = batch_size
        self.min_learning_rate = min_learning_rate
        self.log = log
        self.reference: ReferenceCache = {}
        self.best_state: dict[str, Any] | None = None
        self.best_loss: float | None = None
        self.best_step = 0
        self.bad = 0
        self.history: list[dict[str, Any]] = []
        self.stopped: str | None = None

    def validate(self) -> tuple[float, dict[str, float]]:
        scores = score_pairs(self.trainer, self.rows, self.groups, chat=self.chat, batch_size=self.batch_size,
                             reference=self.reference)
        return worst_group_loss([s.loss for s in scores], [s.row.group for s in scores])

    def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> Any:
        if state.global_step % self.spec.eval_steps != 0:
            return control
        worst, means = self.validate()
        improved = self.best_loss is None or worst < self.best_loss - self.spec.min_delta
        if improved:
            self.best_loss, self.best_step, self.bad = worst, state.global_step, 0
            if self.spec.restore_best:
                model = self.trainer.accelerator.unwrap_model(self.trainer.model)
                self.best_state = {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()}
        else:
            self.bad += 1
        scheduler = kwargs.get("lr_scheduler")
        if self.trainer.plateau is not None and scheduler is not None:
            scheduler.step(worst)
        lr = self.trainer.optimizer.param_groups[0]["lr"]
        entry = {"step": state.global_step, "val_worst_group_loss": worst, "learning_rate": lr,
                 **{f"val_group_loss/{g}": v for g, v in means.items()}}
        self.history.append(entry)
        # transformers' own log: TRL's would flush (and clear) this step's training metrics into this entry; and
        # logging resets should_log, which this step's training log still needs
        should_log = control.should_log
        Trainer.log(self.trainer, {k: v for k, v in entry.items() if k != "step"})
        control.should_log = should_log
        if state.is_world_process_zero:
            cells = ", ".join(f"{g} {v:.3f}" for g, v in means.items())
            self.log(f"validation at step {state.global_step}: worst-group loss {worst:.4f} ({cells})"
                     + ("" if improved else f"; {self.bad} without improvement"))
        if self.spec.patience is not None and self.bad >= self.spec.patience:
            self.stopped = f"no lower worst-group validation loss in {self.bad} evaluations"
        elif self.trainer.plateau is not None and lr < self.min_learning_rate:
            self.stopped = f"learning rate {lr:.3g} below optimizer.min_learning_rate"
        if self.stopped:
            control.should_training_stop = True
        return control

    def on_train_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> Any:
        if self.best_state is not None and self.best_step != state.global_step:
            model = self.trainer.accelerator.unwrap_model(self.trainer.model)
            model.load_state_dict(self.best_state)
            if state.is_world_process_zero:
                self.log(f"restored the weights of step {self.best_step} (worst-group validation loss "
                         f"{self.best_loss:.4f})")
        self.best_state = None
        return control

    def summary(self) -> dict[str, Any]:
        """What harness_train.json records about early stopping."""
        return {"best_step": self.best_step, "best_val_worst_group_loss": self.best_loss,
                "restored_best": self.spec.restore_best, "stopped": self.stopped, "evaluations": self.history}
