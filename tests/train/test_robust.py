"""The GRPO weight update and robust loss by hand and against the official code (SPEC.md §3.3–3.4, §4.3)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from harness.train.robust import (
    GroupRobustObjective,
    collapse_warning,
    dpo_losses,
    initial_loss,
    initial_weights,
    ipo_losses,
    official_equivalent,
    update_weights,
)

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


def test_importance_inverse_square_weighs_each_pair_by_one_over_n_squared() -> None:
    combined, grad = _combine("importance_inverse_square")
    assert combined.weights == pytest.approx([1 / 9, 2 / 9, 6 / 9])  # α ∝ 1/6, 1/3, 1, fixed
    assert combined.loss.item() == pytest.approx((0.625 + 2 * 5 / 3 + 6 * 0.75) / 9)
    # ∂loss/∂l_i = α_g / D_g = (N/(B·Σ_h 1/N_h)) / N_g²: a pair's weight is ∝ 1/N_g², 1/36 : 1/9 : 1
    expected = [10 / (4 * 1.5) / n ** 2 for n in (6, 6, 3, 1)]
    assert grad.tolist() == pytest.approx(expected)
    assert grad[3] / grad[0] == pytest.approx(36.0)


def test_importance_balanced_weighs_each_pair_by_one_over_n() -> None:
    combined, grad = _combine("importance_balanced")
    # w = 1/6, 1/6, 1/3, 1; loss = Σ w l / Σ w = (0.5/6 + 1/6 + 2/3 + 0.3) / (5/3)
    assert combined.loss.item() == pytest.approx((0.5 / 6 + 1 / 6 + 2 / 3 + 0.3) / (5 / 3))
    assert grad.tolist() == pytest.approx([0.1, 0.1, 0.2, 0.6])  # w / Σ w: ∝ 1/N_g, summing to 1
    assert combined.weights == pytest.approx([1 / 3] * 3)  # every group's share of the objective
    # the same per-pair weights as group_dro with η = 0, there divided by the expected total weight
    _, fixed = _combine("group_dro", step=0.0)
    assert (fixed / grad).tolist() == pytest.approx([(fixed / grad)[0].item()] * 4)


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


@pytest.mark.parametrize("mode", ["group_dro", "importance_balanced"])
def test_data_parallel_split_gives_the_single_process_gradient_and_weights(mode: str) -> None:
    """Two simulated processes (sum-reduce of the packed statistics, DDP averaging of gradients)."""
    from harness.train.robust import pack_local

    objective = GroupRobustObjective(mode, COUNTS, step_size=0.5)  # type: ignore[arg-type]
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


def _official_step(adv: np.ndarray, losses: np.ndarray, groups: np.ndarray, counts: np.ndarray, step: float,
                   adj: np.ndarray) -> tuple[np.ndarray, float]:
    """A port of the official code (grouptrainer.py): compute_group_metric with divide_by_totalcount and
    compute_robust_loss; returns the new adv_probs and the robust loss."""
    group_map = (groups == np.arange(len(counts))[:, None]).astype(float)
    group_loss = counts.sum() * ((group_map @ losses) / counts)
    adjusted = group_loss.copy()
    if np.all(adj > 0):
        adjusted += adj / np.sqrt(counts)
    adv = adv * np.exp(step * adjusted)
    adv = adv / adv.sum()
    return adv, float(group_loss @ adv)


@pytest.mark.parametrize("adjustment", [0.0, [0.5, 1.0, 2.0]])
def test_weights_match_the_official_code_with_its_step_size_and_per_group_adj(adjustment) -> None:  # type: ignore[no-untyped-def]
    """η_official = η/B and adj_official = B·C_g give the same α over 200 random steps; its loss is B times ours."""
    rng = np.random.default_rng(7)
    counts, batch, eta = np.array([120, 48, 16]), 8, 0.5
    objective = GroupRobustObjective("group_dro", counts.tolist(), step_size=eta, adjustment=adjustment)
    official = official_equivalent(eta, objective.adjustment, batch)
    assert official["step_size"] == eta / batch
    weights, adv = objective.initial_weights(), np.full(3, 1 / 3)
    for _ in range(200):
        groups = rng.choice(3, size=batch, p=counts / counts.sum())
        losses = rng.uniform(0.0, 2.0, size=batch)
        combined = objective.combine(torch.tensor(losses), torch.tensor(groups), weights, update=True)
        adv, robust_loss = _official_step(adv, losses, groups, counts, official["step_size"],
                                          np.asarray(official["adj"]))
        weights = combined.weights
        assert weights == pytest.approx(adv.tolist(), rel=1e-12, abs=1e-15)
        assert robust_loss == pytest.approx(batch * combined.loss.item(), rel=1e-12)


def test_per_group_adjustment_by_hand_and_its_length_is_checked() -> None:
    objective = GroupRobustObjective("group_dro", [4, 1], step_size=1.0, scale_by_group_size=False,
                                     adjustment=[2.0, 0.0])
    combined = objective.combine(torch.tensor([1.0, 1.0]), torch.tensor([0, 1]), [0.5, 0.5], update=True)
    # L = 1, 1; adjusted = 1 + 2/√4, 1 + 0: α ∝ e², e¹
    assert combined.weights == pytest.approx([math.e / (math.e + 1), 1 / (math.e + 1)])
    with pytest.raises(ValueError, match="2 adjustments for 3 groups"):
        GroupRobustObjective("group_dro", [3, 2, 1], adjustment=[1.0, 2.0])


def test_collapse_warning_for_ipo_scale() -> None:
    assert initial_loss("dpo", 0.1) == pytest.approx(math.log(2))
    assert initial_loss("ipo", 0.1) == pytest.approx(25.0)
    assert collapse_warning("dpo", 0.1, 0.5) is None  # η·l₀ = 0.35
    message = collapse_warning("ipo", 0.1, 0.5)
    assert message is not None and "η·l₀ = 12.5" in message and "η ≤ 0.04" in message
    assert collapse_warning("ipo", 0.01, 5e-7 * 16) is None  # the released runs' η, on our scale


def test_bad_inputs_are_refused() -> None:
    with pytest.raises(ValueError, match="two groups"):
        GroupRobustObjective("group_dro", [5])
    with pytest.raises(ValueError, match="two groups"):
        GroupRobustObjective("group_dro", [5, 0])
    objective = GroupRobustObjective("group_dro", [5, 5])
    with pytest.raises(ValueError, match="group ids"):
        objective.combine(torch.tensor([1.0]), torch.tensor([2]), [0.5, 0.5], update=True)
