"""CAM methods against maps worked out by hand on a toy network whose
gradients are known in closed form, plus batching and cleanliness checks."""
import numpy as np
import pytest
import torch
import torch.nn as nn

from fcam_mm.registry import MODELS


class QuadraticHead(nn.Module):
    """``y_c = Σ_k W[c, k] · mean_xy A_k(x, y)²`` so that
    ``∂y_c/∂A_k(x, y) = 2 W[c, k] A_k(x, y) / (h w)``."""

    in_index = -1

    def __init__(self, weight):
        super().__init__()
        self.weight = nn.Parameter(weight)

    def forward(self, feats):
        return (feats[-1]**2).mean(dim=(2, 3)) @ self.weight.t()

    def class_weights(self, targets):
        return self.weight[targets]


class ToyLocalizer(nn.Module):
    """The 'backbone' passes the input through: inputs are feature maps."""

    def __init__(self, weight):
        super().__init__()
        self.head = QuadraticHead(weight)
        self.scale = nn.Parameter(torch.ones(()))

    def extract_feat(self, inputs):
        return (inputs * self.scale, )


def relu(x):
    return np.maximum(x, 0)


def expected_map(method, A, W, c):
    """One image, explicit formulas (A: (K, h, w) float64)."""
    K, h, w = A.shape
    g = 2 * W[c][:, None, None] * A / (h * w)
    if method == 'CAM':
        return np.tensordot(W[c], A, axes=1)
    if method == 'GradCAM':
        weights = g.mean(axis=(1, 2))
        return relu(np.tensordot(weights, A, axes=1))
    if method == 'XGradCAM':
        # a channel whose activations sum to 0 gets weight 0 (documented)
        weights = np.array([(A[k] / A[k].sum() * g[k]).sum()
                            if A[k].sum() != 0 else 0.0 for k in range(K)])
        return relu(np.tensordot(weights, A, axes=1))
    if method == 'LayerCAM':
        return relu((relu(g) * A).sum(axis=0))
    if method in ('GradCAMPlusPlus', 'SmoothGradCAMPlusPlus'):
        weights = np.zeros(K)
        for k in range(K):
            total = A[k].sum()
            for y in range(h):
                for x in range(w):
                    gk = g[k, y, x]
                    den = 2 * gk**2 + total * gk**3
                    alpha = gk**2 / den if den != 0 else 0.0
                    weights[k] += alpha * max(gk, 0)
        return relu(np.tensordot(weights, A, axes=1))
    raise KeyError(method)


METHODS = ['GradCAM', 'GradCAMPlusPlus', 'XGradCAM', 'LayerCAM']


@pytest.mark.parametrize('method', METHODS + ['SmoothGradCAMPlusPlus'])
def test_maps_match_hand_formulas(method):
    torch.manual_seed(0)
    A = torch.rand(3, 4, 5, 6, dtype=torch.float64) + 0.1
    A[1, 2] = 0  # a channel with zero activations (XGrad-CAM's 0/0)
    W = torch.randn(3, 4, dtype=torch.float64)
    localizer = ToyLocalizer(W.clone()).double()
    cfg = dict(type=method)
    if method == 'SmoothGradCAMPlusPlus':
        cfg['noise_level'] = 0.0  # no noise: Grad-CAM++ exactly
    cam = MODELS.build(cfg)
    targets = torch.tensor([2, 0, 1])
    maps, logits = cam(localizer, A, targets)
    for i in range(3):
        expected = expected_map(method, A[i].numpy(), W.numpy(),
                                int(targets[i]))
        np.testing.assert_allclose(maps[i].numpy(), expected, rtol=1e-10,
                                   atol=1e-12)
    np.testing.assert_allclose(
        logits.numpy(), ((A**2).mean(dim=(2, 3)) @ W.t()).numpy())


def test_plain_cam_matches_hand_formula():
    torch.manual_seed(1)
    head = MODELS.build(dict(type='GAPClsHead', num_classes=3,
                             in_channels=4))

    class Identity(nn.Module):

        def __init__(self):
            super().__init__()
            self.head = head

        def extract_feat(self, x):
            return (x, )

    A = torch.rand(2, 4, 3, 5)
    maps, _ = MODELS.build(dict(type='CAM'))(Identity(), A,
                                              torch.tensor([1, 2]))
    W = head.fc.weight.detach().numpy()
    for i, c in enumerate([1, 2]):
        np.testing.assert_allclose(
            maps[i].detach().numpy(),
            expected_map('CAM', A[i].numpy(), W, c), rtol=1e-5, atol=1e-6)


def tiny_localizer():
    model = MODELS.build(dict(
        type='WSOLLocalizer',
        backbone=dict(type='TinyResNet'),
        head=dict(type='GAPClsHead', num_classes=5, in_channels=128)))
    return model.eval()


@pytest.mark.parametrize('method', ['CAM'] + METHODS +
                         ['SmoothGradCAMPlusPlus'])
def test_batch_equals_single_images(method):
    torch.manual_seed(2)
    model = tiny_localizer()
    cam = MODELS.build(dict(type=method))
    images = torch.randn(3, 3, 64, 64)
    targets = torch.tensor([4, 0, 2])
    with torch.no_grad():  # as in mmengine's test loop
        batch_maps, _ = cam(model, images, targets)
        for i in range(3):
            single, _ = cam(model, images[i:i + 1], targets[i:i + 1])
            torch.testing.assert_close(batch_maps[i], single[0], rtol=1e-4,
                                       atol=1e-5)


@pytest.mark.parametrize('method', METHODS + ['SmoothGradCAMPlusPlus'])
@pytest.mark.parametrize('frozen', [False, True])
def test_gradient_methods_leave_nothing_behind(method, frozen):
    model = tiny_localizer()
    for p in model.parameters():
        p.requires_grad_(not frozen)
    before = [p.requires_grad for p in model.parameters()]
    cam = MODELS.build(dict(type=method))
    maps, logits = cam(model, torch.randn(2, 3, 32, 32))
    assert maps.shape == (2, 4, 4) and torch.isfinite(maps).all()
    assert [p.requires_grad for p in model.parameters()] == before
    assert all(p.grad is None for p in model.parameters())
    assert maps.grad_fn is None and logits.grad_fn is None
    hooks = [m for m in model.modules()
             if m._forward_hooks or m._backward_hooks or
             m._forward_pre_hooks]
    assert not hooks


def test_gradient_method_needs_the_head_input_layer():
    cam = MODELS.build(dict(type='GradCAM', target_layer=1))
    with pytest.raises(NotImplementedError, match='in_index=-1'):
        cam(tiny_localizer(), torch.randn(1, 3, 32, 32))


def test_smooth_gradcampp_arguments():
    with pytest.raises(ValueError, match='num_samples'):
        MODELS.build(dict(type='SmoothGradCAMPlusPlus', num_samples=0))
