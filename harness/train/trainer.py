"""GroupRobustDPOTrainer: TRL's DPOTrainer with per-group losses and GRPO group weights.

TRL 1.16 builds the per-example loss inside `DPOTrainer._compute_loss` and has no hook for it,
so `compute_loss` is overridden: the policy and reference log-probabilities are computed as
TRL computes them (same fused LM head, same masks, TRL's own `compute_ref_log_probs` for the
reference), the per-example DPO/IPO loss is formed, and `GroupRobustObjective` turns it into
the robust loss and the next group weights (SPEC.md §3.3–3.4, §4.3). With `mode="none"` the
loss is the batch mean, which is TRL's own DPO loss (tested to be identical).

The group of each pair travels as a `group_id` column (kept through
`_set_signature_columns_if_needed`) and a `group_ids` tensor added by the collator; its row id
likewise (`row_ids`), so that a `reference_cache` shared by several trainers (the benchmark's
variants) computes each pair's reference log-probs once. The group
weights live in a `GroupWeights` callback, an `ExportableState` that transformers writes into
every checkpoint's trainer_state.json and restores on `train(resume_from_checkpoint=...)`.
Per-group losses and weights are added to TRL's metrics, so they reach every logger
(console, TensorBoard, W&B) at each logging step.

η can follow the learning rate (η_t = η·(lr_t/lr)^p, `step_size_lr_power`), and the trainer can
make a ReduceLROnPlateau scheduler that the validation callback (stopping.py) steps. A warning
goes to `warn` when the group weights collapse (one below COLLAPSED) in the first COLLAPSE_WINDOW
updates.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from transformers import TrainerCallback
from transformers.trainer_callback import ExportableState
from trl import DPOConfig, DPOTrainer
from trl.trainer.dpo_trainer import DataCollatorForPreference

from harness.core.errors import HarnessError
from harness.train.robust import GroupRobustObjective, dpo_losses, ipo_losses

_NON_MODEL_KEYS = {"completion_mask", "ref_chosen_logps", "ref_rejected_logps", "group_ids", "row_ids"}
ReferenceCache = dict[str, tuple[float, float]]  # row id -> reference (chosen, rejected) log-probs
COLLAPSE_WINDOW = 10  # updates watched for collapsed group weights
COLLAPSED = 1e-4


@dataclass
class GroupPreferenceCollator(DataCollatorForPreference):
    """TRL's preference collator plus `group_ids` (one group index per pair, batch order) and `row_ids`."""

    def torch_call(self, examples: list[dict[str, Any]]) -> dict[str, Any]:
        output = super().torch_call(examples)
        output["group_ids"] = torch.tensor([int(e["group_id"]) for e in examples], dtype=torch.long)
        if all("row_id" in e for e in examples):
            output["row_ids"] = [str(e["row_id"]) for e in examples]
        return output


def cached_reference(cache: ReferenceCache | None, inputs: dict[str, Any]) -> tuple[torch.Tensor, ...] | None:
    """The batch's reference (chosen, rejected) log-probs from `cache` when it holds every pair, else None."""
    ids = inputs.get("row_ids")
    if cache is None or ids is None or not all(i in cache for i in ids):
        return None
    return tuple(torch.tensor([cache[i][k] for i in ids], dtype=torch.float64) for k in (0, 1))


def remember_reference(cache: ReferenceCache | None, inputs: dict[str, Any], terms: PreferenceTerms) -> None:
    ids = inputs.get("row_ids")
    if cache is not None and ids is not None:
        cache.update(zip(ids, zip(terms.ref_chosen_logps.tolist(), terms.ref_rejected_logps.tolist())))


class GroupWeights(TrainerCallback, ExportableState):
    """The group weights α and how many updates made them; saved in and restored from checkpoints."""

    def __init__(self, groups: list[str] | None = None, mode: str = "group_dro") -> None:
        self.groups = list(groups or [])
        self.mode = mode
        self.weights: list[float] = []
        self.updates = 0

    def state(self) -> dict[str, Any]:
        return {"args": {"groups": self.groups, "mode": self.mode},
                "attributes": {"weights": list(self.weights), "updates": self.updates}}


@dataclass(frozen=True)
class PreferenceTerms:
    """Sequence log-probabilities of one batch of pairs under the policy and the reference."""

    chosen_logps: torch.Tensor
    rejected_logps: torch.Tensor
    ref_chosen_logps: torch.Tensor
    ref_rejected_logps: torch.Tensor
    chosen_tokens: torch.Tensor
    rejected_tokens: torch.Tensor
    aux_loss: torch.Tensor | None = None

    @property
    def chosen_logratios(self) -> torch.Tensor:
        return self.chosen_logps - self.ref_chosen_logps

    @property
    def rejected_logratios(self) -> torch.Tensor:
        return self.rejected_logps - self.ref_rejected_logps


class GroupRobustDPOTrainer(DPOTrainer):
    """DPOTrainer minimising Σ_g α_g L_g with α from exponentiated-gradient updates (SPEC.md §3.3).

    Extra arguments: `groups` (names, in group-id order), `objective` (the GroupRobustObjective
    built from the training counts N_g). `args.loss_type` must be "sigmoid" (DPO) or "ipo".
    """

    def __init__(self, model: Any, ref_model: Any = None, args: DPOConfig | None = None, *,
                 groups: list[str], objective: GroupRobustObjective, data_collator: Any = None,
                 processing_class: Any = None, callbacks: list[TrainerCallback] | None = None,
                 step_size_lr_power: float = 0.0, plateau: dict[str, float] | None = None,
                 reference_cache: ReferenceCache | None = None, warn: Callable[[str], None] = lambda _: None,
                 **kwargs: Any) -> None:
        if args is None:
            raise ValueError("GroupRobustDPOTrainer needs a DPOConfig")
        if list(args.loss_type) not in (["sigmoid"], ["ipo"]):
            raise ValueError(f"loss_type must be 'sigmoid' (DPO) or 'ipo', not {args.loss_type}")
        if args.f_divergence_type != "reverse_kl" or args.ld_alpha is not None or args.use_weighting:
            raise ValueError("group-robust training supports standard DPO/IPO only (reverse_kl, no ld_alpha, "
                             "no WPO weighting)")
        if len(groups) != objective.k:
            raise ValueError(f"{len(groups)} group names for {objective.k} group counts")
        args.restore_callback_states_from_checkpoint = True  # the group weights resume with the checkpoint
        if data_collator is None and processing_class is not None:
            tokenizer = getattr(processing_class, "tokenizer", processing_class)
            pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
            data_collator = GroupPreferenceCollator(pad_token_id=pad, max_length=args.max_length,
                                                    truncation_mode=args.truncation_mode,
                                                    pad_to_multiple_of=args.pad_to_multiple_of)
        self.groups = list(groups)
        self.objective = objective
        self.step_size_lr_power = step_size_lr_power
        self.plateau = plateau
        self.reference_cache = reference_cache
        self.warn = warn
        self.warnings: list[str] = []
        self.collapsed_at: int | None = None  # the update at which the group weights collapsed (first window)
        weights = GroupWeights(self.groups, objective.mode)
        weights.weights = objective.initial_weights()
        super().__init__(model, ref_model, args, data_collator=data_collator, processing_class=processing_class,
                         callbacks=[*(callbacks or []), weights], **kwargs)

    def _send_telemetry(self) -> None:
        """No usage pings from an evaluation harness (TRL sends one per trainer by default)."""

    def _set_signature_columns_if_needed(self) -> None:
        super()._set_signature_columns_if_needed()
        if self._signature_columns is not None:
            extra = [c for c in ("group_id", "row_id") if c not in self._signature_columns]
            self._signature_columns = [*self._signature_columns, *extra]

    @property
    def group_weights(self) -> GroupWeights:
        """The live weights (transformers replaces the callback object when it resumes a checkpoint)."""
        found = [cb for cb in self.callback_handler.callbacks if isinstance(cb, GroupWeights)]
        if len(found) != 1:
            raise RuntimeError(f"expected one GroupWeights callback, found {len(found)}")
        state = found[0]
        if state.groups != self.groups or state.mode != self.objective.mode:
            raise HarnessError(f"the checkpoint's groups and mode ({state.groups}, {state.mode}) differ from this "
                               f"run's ({self.groups}, {self.objective.mode}): resume with the same config")
        return state

    def create_scheduler(self, num_training_steps: int, optimizer: Any = None) -> Any:
        """ReduceLROnPlateau when asked (stepped by the validation callback), else transformers' scheduler."""
        if self.plateau is None or self.lr_scheduler is not None:
            return super().create_scheduler(num_training_steps, optimizer)
        self.lr_scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(
            optimizer or self.optimizer, mode="min", factor=self.plateau["factor"],
            patience=int(self.plateau["patience"]), threshold=self.plateau["threshold"], threshold_mode="abs")
        self._created_lr_scheduler = True
        return self.lr_scheduler

    def current_step_size(self) -> float:
        """η_t = η·(lr_t/lr)^p with lr the configured (peak) learning rate; η when p = 0."""
        eta = self.objective.step_size
        if self.step_size_lr_power == 0 or self.optimizer is None:
            return eta
        ratio = self.optimizer.param_groups[0]["lr"] / self.args.learning_rate
        return eta * max(ratio, 0.0) ** self.step_size_lr_power

    def compute_ref_log_probs(self, model: Any, inputs: dict[str, Any]) -> Any:
        return super().compute_ref_log_probs(model, {k: v for k, v in inputs.items()
                                                     if k not in ("group_ids", "row_ids")})

    def preference_terms(self, model: Any, inputs: dict[str, Any],
                         reference: tuple[torch.Tensor, ...] | None = None) -> PreferenceTerms:
        """Policy and reference sequence log-probs of a collated batch, exactly as TRL's `_compute_loss`;
        `reference`: the reference's (chosen, rejected) log-probs, already known."""
        model_kwargs = {k: v for k, v in inputs.items() if k not in _NON_MODEL_KEYS}
        model_kwargs["use_cache"] = False
        if self.aux_loss_enabled:
            model_kwargs["output_router_logits"] = True
        completion_mask = inputs["completion_mask"]
        shift_completion_mask = completion_mask[..., 1:]
        labels = inputs["input_ids"].masked_fill(completion_mask == 0, -100)
        outputs = model(**model_kwargs, labels=labels, fused_lm_head=True)
        seq_len = shift_completion_mask.size(1)
        logps = outputs.log_probs[:, -seq_len:].sum(dim=1)
        chosen_logps, rejected_logps = logps.chunk(2, dim=0)
        if reference is not None:
            ref_chosen_logps, ref_rejected_logps = (t.to(logps.device, logps.dtype) for t in reference)
        elif self.precompute_ref_logps:
            ref_chosen_logps, ref_rejected_logps = inputs["ref_chosen_logps"], inputs["ref_rejected_logps"]
        else:
            ref_model = self.ref_model if self.ref_model is not None else self.model
            ref_chosen_logps, ref_rejected_logps = self.compute_ref_log_probs(ref_model, inputs)
        chosen_tokens, rejected_tokens = completion_mask.sum(dim=1).chunk(2, dim=0)
        return PreferenceTerms(chosen_logps, rejected_logps, ref_chosen_logps, ref_rejected_logps,
                               chosen_tokens.to(logps.dtype), rejected_tokens.to(logps.dtype),
                               outputs.aux_loss if self.aux_loss_enabled else None)

    def per_example_loss(self, terms: PreferenceTerms) -> torch.Tensor:
        """l_i of every pair: DPO or IPO (SPEC.md §3.1), TRL's formulas."""
        if self.loss_types == ["ipo"]:
            return ipo_losses(terms.chosen_logratios, terms.rejected_logratios, terms.chosen_tokens,
                              terms.rejected_tokens, self.beta)
        return dpo_losses(terms.chosen_logratios, terms.rejected_logratios, self.beta)

    def compute_loss(self, model: Any, inputs: dict[str, Any], return_outputs: bool = False,
                     num_items_in_batch: Any = None) -> Any:
        mode = "train" if self.model.training else "eval"
        group_ids = inputs["group_ids"]
        terms = self.preference_terms(model, inputs, reference=cached_reference(self.reference_cache, inputs))
        remember_reference(self.reference_cache, inputs, terms)
        per_example = self.per_example_loss(terms)
        state = self.group_weights
        distributed = self.accelerator.num_processes > 1
        step_size = self.current_step_size()
        combined = self.objective.combine(
            per_example, group_ids.to(per_example.device), state.weights, update=mode == "train",
            reduce=(lambda t: self.accelerator.reduce(t, reduction="sum")) if distributed else None,
            world_size=self.accelerator.num_processes, step_size=step_size)
        if mode == "train":
            state.weights = combined.weights
            state.updates += 1
            if self.objective.mode == "group_dro":
                self._watch_collapse(state)
        loss = combined.loss
        if terms.aux_loss is not None:
            loss = loss + self.router_aux_loss_coef * terms.aux_loss
        self._log_terms(mode, terms, combined, step_size)
        if return_outputs:
            with torch.no_grad():
                model_kwargs = {k: v for k, v in inputs.items() if k not in _NON_MODEL_KEYS}
                outputs = model(**model_kwargs, use_cache=False)
            return loss, outputs
        return loss

    def _watch_collapse(self, state: GroupWeights) -> None:
        """Warn once when a group weight falls below COLLAPSED within the first COLLAPSE_WINDOW updates."""
        if self.collapsed_at is not None or state.updates > COLLAPSE_WINDOW or min(state.weights) >= COLLAPSED:
            return
        self.collapsed_at = state.updates
        weights = ", ".join(f"{g} {w:.2g}" for g, w in zip(self.groups, state.weights))
        message = (f"group weights collapsed after {state.updates} update(s): {weights}; robust.step_size is "
                   f"too large for this loss's scale")
        self.warnings.append(message)
        if self.accelerator.is_main_process:
            self.warn(f"warning: {message}")

    def _log_terms(self, mode: str, terms: PreferenceTerms, combined: Any, step_size: float) -> None:
        metrics = self._metrics[mode]
        chosen_rewards = self.beta * terms.chosen_logratios.detach()
        rejected_rewards = self.beta * terms.rejected_logratios.detach()
        gather = self.accelerator.gather_for_metrics
        metrics["rewards/chosen"].append(gather(chosen_rewards).mean().item())
        metrics["rewards/rejected"].append(gather(rejected_rewards).mean().item())
        metrics["rewards/accuracies"].append(gather((chosen_rewards > rejected_rewards).float()).mean().item())
        metrics["rewards/margins"].append(gather(chosen_rewards - rejected_rewards).mean().item())
        metrics["logps/chosen"].append(gather(terms.chosen_logps.detach()).mean().item())
        metrics["logps/rejected"].append(gather(terms.rejected_logps.detach()).mean().item())
        for g, name in enumerate(self.groups):
            metrics[f"group_loss/{name}"].append(combined.group_loss[g])
            if combined.group_mean[g] is not None:
                metrics[f"group_mean_loss/{name}"].append(combined.group_mean[g])
            if self.objective.mode != "none":
                metrics[f"group_weight/{name}"].append(combined.weights[g])
        if self.objective.mode == "group_dro":
            metrics["group_step_size"].append(step_size)
