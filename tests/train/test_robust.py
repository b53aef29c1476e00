"""The GRPO weight update and robust loss against hand-computed values (SPEC.md §3.3–3.4, §4.3)."""

from __future__ import annotations

import math

import pytest
import torch

from harness.train.robust import GroupRobustObjective, dpo_losses, initial_weights, ipo_losses, update_weights

# Four pairs in three groups; training counts N_g = 6, 3, 1 (N = 10); batch B = 4.
LOSSES = [0.5, 1.0, 2.0, 0.3]
GROUPS = [0, 0, 1, 2]
COUNTS = [6, 3, 1]


def _combine(mode: str, *, scale: bool = True, adjustment: float = 0.0, step: float = 0.5):
    per_example = torch.tensor(LOSSES, dtype=torch.float64, requires_grad=True)
    objective = GroupRobustObjective(mode, COUNTS, step_size=step, scale_by_group_size=scale, adjustment=adjustment)  # type: ignore[arg-type]
    combined = objective.combine(per_example, torch.tensor(GROUPS), objective.initial_weights(), update=True)
    combined.loss.backward()
    return combined, per_example.grad


def test_scaled_group_losses_weights_and_loss_by_hand() -> None:
    combined, grad = _combine("group_dro")
    # L_g = (N/N_g)·Σ_{i∈g} l_i / B: (10/6)·1.5/4, (10/3)·2.0/4, (10/1)·0.3/4
    assert combined.group_loss == pytest.approx([0.625, 5 / 3, 0.75])
    # α_g ∝ (1/3)·exp(0.5·L_g): exp = 1.3668379, 2.3009759, 1.4549914 (sum 5.1228052)
    assert combined.weights == pytest.approx([0.2668143, 0.4491633, 0.2840224], abs=1e-7)
    # loss = Σ α_g L_g with the updated α
    assert combined.loss.item() == pytest.approx(1.1283812, abs=1e-7)
    # ∂loss/∂l_i = α_g / D_g, D_g = B·N_g/N = 2.4, 1.2, 0.4
    expected = [0.2668143 / 2.4, 0.2668143 / 2.4, 0.4491633 / 1.2, 0.2840224 / 0.4]
    assert grad.tolist() == pytest.approx(expected, abs=1e-6)
    assert combined.group_mean == pytest.approx([0.75, 2.0, 0.3])
    assert combined.group_count == [2, 1, 1]


def test_unscaled_with_group_dro_adjustment_by_hand() -> None:
    combined, grad = _combine("group_dro", scale=False, adjustment=1.0)
    assert combined.group_loss == pytest.approx([0.75, 2.0, 0.3])  # plain group means
    # the update uses L_g + C/√N_g = 0.75 + 1/√6, 2 + 1/√3, 0.3 + 1; the loss uses L_g alone
    assert combined.weights == pytest.approx([0.2435148, 0.4950847, 0.2614005], abs=1e-7)
    assert combined.loss.item() == pytest.approx(1.2512256, abs=1e-7)
    assert grad.tolist() == pytest.approx([0.2435148 / 2, 0.2435148 / 2, 0.4950847, 0.2614005], abs=1e-6)


def test_importance_weights_are_fixed_and_inverse_to_group_size() -> None:
    combined, _ = _combine("importance")
    assert combined.weights == pytest.approx([1 / 9, 2 / 9, 6 / 9])  # ∝ 1/6, 1/3, 1
    assert combined.loss.item() == pytest.approx((0.625 + 2 * 5 / 3 + 6 * 0.75) / 9)


def test_none_is_the_plain_batch_mean() -> None:
    combined, grad = _combine("none")
    assert combined.loss.item() == pytest.approx(sum(LOSSES) / 4)
    assert grad.tolist() == pytest.approx([0.25] * 4)
    assert combined.weights == pytest.approx([1 / 3] * 3)  # not updated


def test_absent_group_keeps_its_weight_before_normalising() -> None:
    objective = GroupRobustObjective("group_dro", [2, 2], step_size=1.0, scale_by_group_size=False)
    combined = objective.combine(torch.tensor([1.0, 3.0]), torch.tensor([0, 0]), [0.5, 0.5], update=True)
    assert combined.group_loss == [2.0, 0.0]
    assert combined.group_mean == [2.0, None]
    assert combined.weights == pytest.approx([math.e ** 2 / (math.e ** 2 + 1), 1 / (math.e ** 2 + 1)])


def test_repeated_updates_move_weight_to_the_worse_group_and_never_overflow() -> None:
    weights = initial_weights("group_dro", [5, 5])
    for _ in range(200):
        weights = update_weights(weights, [1000.0, 1.0], step_size=1.0)
    assert weights[0] == pytest.approx(1.0) and all(math.isfinite(w) for w in weights)


def test_data_parallel_split_gives_the_single_process_gradient_and_weights() -> None:
    """Two simulated processes (sum-reduce of the packed statistics, DDP averaging of gradients)."""
    from harness.train.robust import pack_local

    objective = GroupRobustObjective("group_dro", COUNTS, step_size=0.5)
    full = torch.tensor(LOSSES, dtype=torch.float64, requires_grad=True)
    single = objective.combine(full, torch.tensor(GROUPS), [1 / 3] * 3, update=True)
    single.loss.backward()
    parts = [(torch.tensor(LOSSES[:2], dtype=torch.float64, requires_grad=True), torch.tensor(GROUPS[:2])),
             (torch.tensor(LOSSES[2:], dtype=torch.float64, requires_grad=True), torch.tensor(GROUPS[2:]))]
    packed = [pack_local(x, g, 3) for x, g in parts]
    total = packed[0] + packed[1]
    for x, g in parts:
        out = objective.combine(x, g, [1 / 3] * 3, update=True, reduce=lambda _t: total, world_size=2)
        assert out.weights == pytest.approx(single.weights)
        assert out.group_loss == pytest.approx(single.group_loss)
        (out.loss / 2).backward()  # DDP averages the two processes' gradients
    assert torch.cat([parts[0][0].grad, parts[1][0].grad]).tolist() == pytest.approx(full.grad.tolist())


def test_per_example_dpo_and_ipo_by_hand() -> None:
    chosen, rejected = torch.tensor([2.0]), torch.tensor([-1.0])
    # h = 2 - (-1) = 3; -log σ(0.1·3)
    assert float(dpo_losses(chosen, rejected, 0.1)[0]) == pytest.approx(0.5543552, abs=1e-6)
    # h̄ = 2/4 - (-1)/2 = 1; (1 - 1/(2·0.1))² = 16
    assert float(ipo_losses(chosen, rejected, torch.tensor([4.0]), torch.tensor([2.0]), 0.1)[0]) == pytest.approx(16)


def test_bad_inputs_are_refused() -> None:
    with pytest.raises(ValueError, match="two groups"):
        GroupRobustObjective("group_dro", [5])
    with pytest.raises(ValueError, match="two groups"):
        GroupRobustObjective("group_dro", [5, 0])
    objective = GroupRobustObjective("group_dro", [5, 5])
    with pytest.raises(ValueError, match="group ids"):
        objective.combine(torch.tensor([1.0]), torch.tensor([2]), [0.5, 0.5], update=True)
