"""Group-robust combination of per-example preference losses: pure tensor maths, no trainer.

Notation (SPEC.md §3): K groups, N_g training rows of group g, N = Σ N_g; a batch of B pairs
with per-example losses l_i and groups g_i.

Per-example losses (§3.1), h = log-ratio of chosen minus that of rejected:
- DPO: l = -log σ(β h)
- IPO: l = (h̄ - 1/(2β))², h̄ with each log-ratio divided by its completion's token count (TRL's
  form, which the IPO authors confirm; the paper's h is the unnormalised sum).

Group losses (§3.4, official code `divide_by_totalcount`):
- scaled:   L_g = (N / N_g) · (Σ_{i∈g} l_i) / B    an unbiased estimate of the group mean under
            pooled sampling (the official code's value is B times this, i.e. its η is ours / B)
- unscaled: L_g = mean of the group's l_i in the batch (0 when the group is absent), as Group DRO.

Weights α ∈ Δ_K:
- group_dro (GRPO Algorithm 1 / Group DRO §4.3): α⁰ uniform; every step
  α_g ← α_g · exp(η · (L_g + C_g/√N_g)) then α ← α / Σ α  (the C terms only where C_g > 0);
  then the policy loss Σ_g α_g L_g uses the updated α, with α held constant (no gradient).
  η = 0 keeps α uniform: with scaled L_g every pair weighs N/(K·N_g·B), i.e. ∝ 1/N_g.
- importance_inverse_square (the official code's importance sampling): α_g ∝ 1/N_g, fixed, on the
  scaled L_g, so a pair of group g weighs ∝ α_g/N_g ∝ 1/N_g², and group g's share of the
  objective is ∝ 1/N_g (the smallest group dominates).
- importance_balanced (balanced importance weighting): a pair of group g weighs w_g = 1/N_g and
  the loss is Σ_i w_{g_i} l_i / Σ_i w_{g_i} over the batch, so every group's share is 1/K; α
  (reported) is uniform. Same weights as group_dro with η = 0, normalised by the batch's total
  weight instead of its expected value.
- none: the plain mean of l_i over the batch (exactly TRL's DPO loss); α is not used.

Conversion to the official code (grouptrainer.py): its group loss is N·Σ_{i∈g} l_i/N_g = B·L_g
(scaled), so official step_size = η/B and official adj_g = B·C_g give the same α (tested).

Data parallel: every process reduces (sums) the packed [Σ_{i∈g} l_i, n_g, B] over processes, so
α and the logged L_g are the global-batch values on every process; each process back-propagates
W · Σ_g α_g (its own Σ_{i∈g} l_i) / D_g, which DDP's gradient averaging turns into exactly the
gradient of the global-batch robust loss (D_g = B·N_g/N scaled, n_g unscaled).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import torch
import torch.nn.functional as F

Mode = Literal["group_dro", "importance_inverse_square", "importance_balanced", "none"]
COLLAPSE_SWING = 1.0  # η·l₀ above this: one batch can move the log group weights by more than 1
Reduce = Callable[[torch.Tensor], torch.Tensor]


def dpo_losses(chosen_logratios: torch.Tensor, rejected_logratios: torch.Tensor, beta: float) -> torch.Tensor:
    """-log σ(β h) per example (SPEC.md §3.1 GR-DPO), computed as TRL's `sigmoid` loss."""
    return -F.logsigmoid(beta * (chosen_logratios - rejected_logratios))


def ipo_losses(chosen_logratios: torch.Tensor, rejected_logratios: torch.Tensor, chosen_tokens: torch.Tensor,
               rejected_tokens: torch.Tensor, beta: float) -> torch.Tensor:
    """(h̄ - 1/(2β))² per example (SPEC.md §3.1 GR-IPO), with TRL's per-token averaging of the log-ratios."""
    delta = chosen_logratios / chosen_tokens.clamp(min=1.0) - rejected_logratios / rejected_tokens.clamp(min=1.0)
    return (delta - 1 / (2 * beta)) ** 2


def initial_loss(loss_type: str, beta: float) -> float:
    """l₀, every pair's loss while π = π_ref (h = 0): log 2 for DPO, 1/(4β²) for IPO."""
    return math.log(2) if loss_type == "dpo" else 1 / (4 * beta * beta)


def collapse_warning(loss_type: str, beta: float, step_size: float) -> str | None:
    """Why the group weights would collapse in the first steps, or None. At the start every L_g is about
    l₀ where present and 0 where absent, so one batch moves log α_g by about η·l₀."""
    swing = step_size * initial_loss(loss_type, beta)
    if swing <= COLLAPSE_SWING:
        return None
    scale = "log 2" if loss_type == "dpo" else f"1/(4β²) = {initial_loss(loss_type, beta):.4g} (TRL's per-token IPO)"
    return (f"robust.step_size: η·l₀ = {swing:.3g} with l₀ = {scale}, the loss of every pair at the start: one "
            f"batch can move a group's log weight by about {swing:.3g}, so the weights collapse onto one group "
            f"in the first steps; η ≤ {COLLAPSE_SWING / initial_loss(loss_type, beta):.3g} keeps η·l₀ ≤ "
            f"{COLLAPSE_SWING:g} (β and η do not carry over from the paper's IPO)")


def official_equivalent(step_size: float, adjustment: Sequence[float], batch: int) -> dict[str, object]:
    """The official code's step_size and adj that give the same α (its group loss is B times ours)."""
    return {"step_size": step_size / batch, "adj": [batch * c for c in adjustment], "batch": batch}


def initial_weights(mode: Mode, train_counts: Sequence[int]) -> list[float]:
    """α⁰: ∝ 1/N_g (importance_inverse_square) or uniform (every other mode)."""
    k = len(train_counts)
    if mode == "importance_inverse_square":
        inv = [1.0 / n for n in train_counts]
        return [v / sum(inv) for v in inv]
    return [1.0 / k] * k


def per_group(adjustment: float | Sequence[float], k: int) -> list[float]:
    """C_g for every group: one value for all, or one per group."""
    values = [float(adjustment)] * k if isinstance(adjustment, (int, float)) else [float(c) for c in adjustment]
    if len(values) != k:
        raise ValueError(f"{len(values)} adjustments for {k} groups: give one value or one per group")
    return values


def update_weights(weights: Sequence[float], group_loss: Sequence[float], *, step_size: float,
                   adjustment: float | Sequence[float] = 0.0,
                   train_counts: Sequence[int] | None = None) -> list[float]:
    """One exponentiated-gradient step: α_g·exp(η·(L_g + C_g/√N_g)), normalised to sum 1 (SPEC.md §3.3, §4.3)."""
    adjusted = list(group_loss)
    c = per_group(adjustment, len(adjusted))
    if any(v > 0 for v in c):
        if train_counts is None:
            raise ValueError("the adjustment C_g/√N_g needs the training counts N_g")
        adjusted = [v + cg / math.sqrt(n) for v, cg, n in zip(adjusted, c, train_counts)]
    # Subtracting the largest exponent changes nothing after normalising and cannot overflow.
    top = max(step_size * v for v in adjusted)
    raw = [w * math.exp(step_size * v - top) for w, v in zip(weights, adjusted)]
    total = sum(raw)
    return [v / total for v in raw]


def pack_local(per_example: torch.Tensor, group_ids: torch.Tensor, k: int) -> torch.Tensor:
    """[Σ_{i∈g} l_i (K values), n_g (K values), B] of this process's batch, detached, float64."""
    values = per_example.detach().to(torch.float64)
    sums = torch.zeros(k, dtype=torch.float64, device=values.device).index_add(0, group_ids, values)
    counts = torch.zeros(k, dtype=torch.float64, device=values.device).index_add(
        0, group_ids, torch.ones_like(values))
    return torch.cat([sums, counts, torch.tensor([float(len(values))], dtype=torch.float64, device=values.device)])


@dataclass(frozen=True)
class Combined:
    """One step's result. `loss` carries the gradient; everything else is detached and global."""

    loss: torch.Tensor
    group_loss: list[float]  # L_g as configured (scaled or not), over the global batch
    group_mean: list[float | None]  # plain mean of the group's l_i in the global batch (None: absent)
    group_count: list[int]  # n_g in the global batch
    weights: list[float]  # α after this step's update


class GroupRobustObjective:
    """Turns a batch of per-example losses into the robust loss and the next group weights."""

    def __init__(self, mode: Mode, train_counts: Sequence[int], *, step_size: float = 0.01,
                 scale_by_group_size: bool = True, adjustment: float | Sequence[float] = 0.0) -> None:
        if len(train_counts) < 2 or min(train_counts) < 1:
            raise ValueError(f"need at least two groups, each with training rows; got counts {list(train_counts)}")
        self.mode = mode
        self.train_counts = [int(n) for n in train_counts]
        self.step_size = step_size
        self.scale_by_group_size = scale_by_group_size
        self.adjustment = per_group(adjustment, len(self.train_counts))

    @property
    def k(self) -> int:
        return len(self.train_counts)

    def initial_weights(self) -> list[float]:
        return initial_weights(self.mode, self.train_counts)

    def denominators(self, counts: torch.Tensor, batch_size: float) -> torch.Tensor:
        """D_g with L_g = (Σ_{i∈g} l_i) / D_g: B·N_g/N (scaled) or n_g (unscaled; ∞ when absent, so L_g = 0)."""
        if self.scale_by_group_size:
            n = torch.tensor(self.train_counts, dtype=torch.float64, device=counts.device)
            return batch_size * n / n.sum()
        return torch.where(counts > 0, counts, torch.full_like(counts, math.inf))

    def coefficients(self, alpha: Sequence[float], counts: torch.Tensor, denom: torch.Tensor,
                     world_size: int) -> torch.Tensor:
        """c_g with this process's loss Σ_g c_g·(its Σ_{i∈g} l_i); DDP's averaging makes it the global loss."""
        if self.mode == "importance_balanced":  # w_g / Σ_i w_{g_i}, w_g = 1/N_g, over the global batch
            inverse = 1.0 / torch.tensor(self.train_counts, dtype=torch.float64, device=counts.device)
            return world_size * inverse / (counts * inverse).sum()
        return world_size * torch.tensor(alpha, dtype=torch.float64, device=counts.device) / denom

    def combine(self, per_example: torch.Tensor, group_ids: torch.Tensor, weights: Sequence[float], *,
                update: bool, reduce: Reduce | None = None, world_size: int = 1,
                step_size: float | None = None) -> Combined:
        """The loss to back-propagate on this process, and (when `update`) the group weights after this step.
        `step_size` overrides η for this step (η following the learning rate)."""
        k = self.k
        if group_ids.numel() and (int(group_ids.min()) < 0 or int(group_ids.max()) >= k):
            raise ValueError(f"group ids must lie in [0, {k}); got {group_ids.tolist()}")
        packed = pack_local(per_example, group_ids, k)
        if reduce is not None:
            packed = reduce(packed)
        sums, counts, batch = packed[:k], packed[k:2 * k], float(packed[2 * k])
        denom = self.denominators(counts, batch)
        group_loss = (sums / denom).tolist()
        group_mean = [s / c if c > 0 else None for s, c in zip(sums.tolist(), counts.tolist())]
        new = list(weights)
        if update and self.mode == "group_dro":
            eta = self.step_size if step_size is None else step_size
            new = update_weights(weights, group_loss, step_size=eta, adjustment=self.adjustment,
                                 train_counts=self.train_counts)
        if self.mode == "none":
            loss = per_example.mean()
        else:
            local = torch.zeros(k, dtype=per_example.dtype, device=per_example.device).index_add(
                0, group_ids, per_example)
            coef = self.coefficients(new, counts, denom, world_size).to(per_example.device, per_example.dtype)
            loss = (coef * local).sum()
        return Combined(loss=loss, group_loss=group_loss, group_mean=group_mean,
                        group_count=[int(c) for c in counts.tolist()], weights=new)
