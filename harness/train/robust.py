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
  α_g ← α_g · exp(η · (L_g + C/√N_g)) then α ← α / Σ α  (the C term only when C > 0);
  then the policy loss Σ_g α_g L_g uses the updated α, with α held constant (no gradient).
- importance: α_g ∝ 1/N_g, fixed.
- none: the plain mean of l_i over the batch (exactly TRL's DPO loss); α is not used.

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

Mode = Literal["group_dro", "importance", "none"]
Reduce = Callable[[torch.Tensor], torch.Tensor]


def dpo_losses(chosen_logratios: torch.Tensor, rejected_logratios: torch.Tensor, beta: float) -> torch.Tensor:
    """-log σ(β h) per example (SPEC.md §3.1 GR-DPO), computed as TRL's `sigmoid` loss."""
    return -F.logsigmoid(beta * (chosen_logratios - rejected_logratios))


def ipo_losses(chosen_logratios: torch.Tensor, rejected_logratios: torch.Tensor, chosen_tokens: torch.Tensor,
               rejected_tokens: torch.Tensor, beta: float) -> torch.Tensor:
    """(h̄ - 1/(2β))² per example (SPEC.md §3.1 GR-IPO), with TRL's per-token averaging of the log-ratios."""
    delta = chosen_logratios / chosen_tokens.clamp(min=1.0) - rejected_logratios / rejected_tokens.clamp(min=1.0)
    return (delta - 1 / (2 * beta)) ** 2


def initial_weights(mode: Mode, train_counts: Sequence[int]) -> list[float]:
    """α⁰: uniform (group_dro, none) or ∝ 1/N_g (importance)."""
    k = len(train_counts)
    if mode == "importance":
        inv = [1.0 / n for n in train_counts]
        return [v / sum(inv) for v in inv]
    return [1.0 / k] * k


def update_weights(weights: Sequence[float], group_loss: Sequence[float], *, step_size: float,
                   adjustment: float = 0.0, train_counts: Sequence[int] | None = None) -> list[float]:
    """One exponentiated-gradient step: α_g·exp(η·(L_g + C/√N_g)), normalised to sum 1 (SPEC.md §3.3, §4.3)."""
    adjusted = list(group_loss)
    if adjustment > 0:
        if train_counts is None:
            raise ValueError("the adjustment C/√N_g needs the training counts N_g")
        adjusted = [v + adjustment / math.sqrt(n) for v, n in zip(adjusted, train_counts)]
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
                 scale_by_group_size: bool = True, adjustment: float = 0.0) -> None:
        if len(train_counts) < 2 or min(train_counts) < 1:
            raise ValueError(f"need at least two groups, each with training rows; got counts {list(train_counts)}")
        self.mode = mode
        self.train_counts = [int(n) for n in train_counts]
        self.step_size = step_size
        self.scale_by_group_size = scale_by_group_size
        self.adjustment = adjustment

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

    def combine(self, per_example: torch.Tensor, group_ids: torch.Tensor, weights: Sequence[float], *,
                update: bool, reduce: Reduce | None = None, world_size: int = 1) -> Combined:
        """The loss to back-propagate on this process, and (when `update`) the group weights after this step."""
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
            new = update_weights(weights, group_loss, step_size=self.step_size, adjustment=self.adjustment,
                                 train_counts=self.train_counts)
        if self.mode == "none":
            loss = per_example.mean()
        else:
            local = torch.zeros(k, dtype=per_example.dtype, device=per_example.device).index_add(
                0, group_ids, per_example)
            alpha = torch.tensor(new, dtype=torch.float64, device=per_example.device)
            coef = (world_size * alpha / denom.to(per_example.device)).to(per_example.dtype)
            loss = (coef * local).sum()
        return Combined(loss=loss, group_loss=group_loss, group_mean=group_mean,
                        group_count=[int(c) for c in counts.tolist()], weights=new)
