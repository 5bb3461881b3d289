"""F-CAM's partial cross-entropy and absolute size constraint."""
import math

import pytest
import torch

from fcam_mm.models.losses import (AbsoluteSizeConstraintLoss,
                                   PartialCrossEntropyLoss,
                                   log_barrier_extension)
from fcam_mm.registry import MODELS


# --------------------------------------------------------------------------
# ψ_t
# --------------------------------------------------------------------------
@pytest.mark.parametrize('t, z, expected', [
    (1.0, -math.e, -1.0),  # −log(e)
    (1.0, -1.0, 0.0),  # the edge −1/t² = −1: −log 1
    (1.0, 0.0, 1.0),  # linear: 0 − log(1) + 1
    (1.0, 2.0, 3.0),  # 2 − 0 + 1
    (2.0, -4.0, -0.5 * math.log(4.0)),
    (2.0, -0.25, -0.5 * math.log(0.25)),  # edge
    (2.0, 0.0, -0.5 * math.log(0.25) + 0.5),
    (10.0, -100.0, -0.1 * math.log(100.0)),
    (10.0, 1.0, 10.0 - 0.1 * math.log(0.01) + 0.1),
])
def test_log_barrier_extension_values(t, z, expected):
    value = log_barrier_extension(torch.tensor(z, dtype=torch.float64), t)
    assert value.item() == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize('t', [1.0, 1.01, 2.5, 10.0])
def test_log_barrier_extension_is_continuous_at_the_edge(t):
    edge = -1.0 / t**2
    z = torch.tensor([edge - 1e-9, edge, edge + 1e-9], dtype=torch.float64,
                     requires_grad=True)
    values = log_barrier_extension(z, t)
    # both branches at the edge: −(1/t)·log(1/t²)
    expected = -math.log(1.0 / t**2) / t
    assert values.detach().numpy() == pytest.approx([expected] * 3, abs=1e-7)
    values.sum().backward()
    # same slope on both sides: d/dz −(1/t)log(−z) = −1/(t z) = t at the edge
    assert z.grad.numpy() == pytest.approx([t] * 3, rel=1e-6)


def test_log_barrier_extension_gradient_is_finite_everywhere():
    z = torch.tensor([-1e6, -1.0, -1e-12, 0.0, 1e-3, 5.0],
                     requires_grad=True)
    log_barrier_extension(z, 3.0).sum().backward()
    assert torch.isfinite(z.grad).all()
    with pytest.raises(ValueError):
        log_barrier_extension(z, 0.0)


# --------------------------------------------------------------------------
# ASC
# --------------------------------------------------------------------------
def test_size_constraint_matches_hand_computation():
    fg = torch.tensor([[[0.2, 0.9], [0.5, 0.0]], [[1.0, 1.0], [1.0, 0.4]]])
    probs = torch.stack([1 - fg, fg], dim=1)  # (2, 2, 2, 2)
    loss = AbsoluteSizeConstraintLoss(loss_weight=0.1, t=1.0)
    # sizes: image 0 → bg 2.4, fg 1.6; image 1 → bg 0.6, fg 3.4
    psi = [-math.log(2.4), -math.log(1.6), 0.6 * -1 + 1.0, -math.log(3.4)]
    # image 1 bg: −0.6 > −1/t² = −1 → linear branch t·z + 1/t (log 1 = 0)
    expected = 0.1 * 0.5 * ((psi[0] + psi[2]) / 2 + (psi[1] + psi[3]) / 2)
    assert loss(probs).item() == pytest.approx(expected, rel=1e-6)


def test_size_constraint_gradient_grows_both_regions():
    gen = torch.Generator().manual_seed(0)
    logits = torch.randn(3, 2, 6, 6, generator=gen)
    probs = logits.softmax(dim=1).requires_grad_(True)
    loss = AbsoluteSizeConstraintLoss(loss_weight=0.1, t=2.0)
    loss(probs).backward()
    assert (probs.grad < 0).all()  # raising any probability lowers the loss
    sizes = probs.detach().flatten(2).sum(2)
    # ∂loss/∂S_{b,c,p} = λ · (1/C) · (1/B) · (−1/(t · size_{b,c}))
    expected = -0.1 * 0.5 / 3 / (2.0 * sizes)
    assert probs.grad == pytest.approx(
        expected[:, :, None, None].expand_as(probs), rel=1e-5)


def test_size_constraint_t_and_validation():
    loss = AbsoluteSizeConstraintLoss()
    assert loss.loss_weight == 0.1 and loss.t == 1.0
    probs = torch.full((1, 2, 4, 4), 0.5)
    before = loss(probs).item()
    loss.set_t(10.0)
    assert isinstance(loss.t, float) and loss.t == 10.0
    assert loss(probs).item() == pytest.approx(
        0.1 * -math.log(8.0) / 10.0)
    assert loss(probs).item() != before
    for bad in (0.0, -1.0, float('inf'), float('nan'), True):
        with pytest.raises(ValueError):
            loss.set_t(bad)
    with pytest.raises(ValueError):
        AbsoluteSizeConstraintLoss(loss_weight=-0.1)
    with pytest.raises(ValueError):
        AbsoluteSizeConstraintLoss(t=0)
    with pytest.raises(ValueError):
        loss(torch.rand(2, 4, 4))
    assert 't=10.0' in repr(loss)


# --------------------------------------------------------------------------
# partial CE
# --------------------------------------------------------------------------
def log_softmax(values):
    norm = math.log(sum(math.exp(v) for v in values))
    return [v - norm for v in values]


def test_partial_ce_matches_hand_computation():
    logits = torch.tensor([[[[2.0, -1.0, 0.5]], [[0.0, 1.0, 3.0]]],
                           [[[1.0, 0.0, 0.0]], [[-2.0, 0.0, 0.0]]]])
    labels = torch.tensor([[[1, 0, 255]], [[0, 255, 255]]])
    pixels = [((2.0, 0.0), 1), ((-1.0, 1.0), 0), ((1.0, -2.0), 0)]
    expected = -sum(log_softmax(z)[y] for z, y in pixels) / 3
    loss = PartialCrossEntropyLoss(loss_weight=0.5)
    assert loss(logits, labels).item() == pytest.approx(0.5 * expected,
                                                        rel=1e-6)
    full = torch.nn.functional.cross_entropy(logits, labels, ignore_index=255)
    assert loss(logits, labels).item() == pytest.approx(0.5 * full.item())


def test_partial_ce_without_labelled_pixels_is_zero():
    logits = torch.randn(2, 2, 5, 5, requires_grad=True)
    labels = torch.full((2, 5, 5), 255)
    value = PartialCrossEntropyLoss()(logits, labels)
    assert value.item() == 0.0 and not torch.isnan(value)
    value.backward()
    assert torch.equal(logits.grad, torch.zeros_like(logits))


def test_partial_ce_validation_and_registry():
    with pytest.raises(ValueError):
        PartialCrossEntropyLoss(loss_weight=-1.0)
    with pytest.raises(ValueError):
        PartialCrossEntropyLoss()(torch.rand(1, 2, 4, 4),
                                  torch.zeros(1, 4, 5, dtype=torch.long))
    ce = MODELS.build(dict(type='PartialCrossEntropyLoss', loss_weight=0.1))
    asc = MODELS.build(dict(type='AbsoluteSizeConstraintLoss', t=2.0))
    assert isinstance(ce, PartialCrossEntropyLoss) and ce.loss_weight == 0.1
    assert isinstance(asc, AbsoluteSizeConstraintLoss) and asc.t == 2.0
