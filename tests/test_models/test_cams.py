"""CAM methods against maps worked out independently: closed-form formulas
on a toy network whose gradients are known by hand, and per-image autograd
on real backbones; plus batching and cleanliness checks."""
import gc
import weakref

import numpy as np
import pytest
import torch
import torch.nn as nn

from fcam_mm.registry import MODELS
from fcam_mm.structures import WSOLDataSample

GRADIENT_METHODS = ['GradCAM', 'GradCAMPlusPlus', 'SmoothGradCAMPlusPlus',
                    'XGradCAM', 'LayerCAM', 'HiResCAM']
ALL_METHODS = ['CAM'] + GRADIENT_METHODS + ['ScoreCAM', 'EigenCAM']


# ---------------------------------------------------------------- toy model
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
        self.scale = nn.Parameter(torch.ones((), dtype=weight.dtype))

    def extract_feat(self, inputs):
        return (inputs * self.scale, )


def relu(x):
    return np.maximum(x, 0)


def quadratic_grad(A, W, c):
    """∂y_c/∂A for the quadratic head, one image (K, h, w)."""
    K, h, w = A.shape
    return 2 * W[c][:, None, None] * A / (h * w)


def quadratic_logits(A, W):
    return W @ (A**2).mean(axis=(1, 2))


def gradcampp_by_loops(A, d1, d2, d3):
    """Grad-CAM++ weights with explicit loops (eq. 19): α = d2 / (2 d2 +
    Σ_ab A · d3), 0 where the denominator is 0, w = Σ α relu(d1)."""
    K, h, w = A.shape
    weights = np.zeros(K)
    for k in range(K):
        total = A[k].sum()
        for y in range(h):
            for x in range(w):
                den = 2 * d2[k, y, x] + total * d3[k, y, x]
                alpha = d2[k, y, x] / den if den != 0 else 0.0
                weights[k] += alpha * max(d1[k, y, x], 0)
    return weights


def expected_from_gradient(method, A, g):
    """One image's map from its activations and gradient (K, h, w)."""
    K = A.shape[0]
    if method == 'GradCAM':
        return relu(np.tensordot(g.mean(axis=(1, 2)), A, axes=1))
    if method == 'XGradCAM':
        # a channel whose activations sum to 0 gets weight 0 (documented)
        weights = np.array([(A[k] / A[k].sum() * g[k]).sum()
                            if A[k].sum() != 0 else 0.0 for k in range(K)])
        return relu(np.tensordot(weights, A, axes=1))
    if method == 'LayerCAM':
        return relu((relu(g) * A).sum(axis=0))
    if method == 'HiResCAM':
        return relu((g * A).sum(axis=0))
    if method in ('GradCAMPlusPlus', 'SmoothGradCAMPlusPlus'):
        weights = gradcampp_by_loops(A, g, g**2, g**3)
        return relu(np.tensordot(weights, A, axes=1))
    raise KeyError(method)


def toy_inputs(seed=0):
    torch.manual_seed(seed)
    A = torch.rand(3, 4, 5, 6, dtype=torch.float64) + 0.1
    A[1, 2] = 0  # a channel with zero activations (XGrad-CAM's 0/0)
    A[0, 1, :, 3:] = 0  # zero gradients (Grad-CAM++'s α = 0)
    W = torch.randn(3, 4, dtype=torch.float64)
    return A, W, torch.tensor([2, 0, 1])


@pytest.mark.parametrize(
    'method', [m for m in GRADIENT_METHODS if m != 'SmoothGradCAMPlusPlus'])
def test_gradient_maps_match_hand_formulas(method):
    A, W, targets = toy_inputs()
    localizer = ToyLocalizer(W.clone())
    maps, logits = MODELS.build(dict(type=method))(localizer, A, targets)
    for i, c in enumerate(targets.tolist()):
        a = A[i].numpy()
        expected = expected_from_gradient(
            method, a, quadratic_grad(a, W.numpy(), c))
        np.testing.assert_allclose(maps[i].numpy(), expected, rtol=1e-10,
                                   atol=1e-12)
        np.testing.assert_allclose(logits[i].numpy(),
                                   quadratic_logits(a, W.numpy()))


@pytest.mark.parametrize('samples_per_pass', [None, 1, 2])
def test_smooth_gradcampp_averages_the_noisy_derivatives(samples_per_pass):
    A, W, targets = toy_inputs(1)
    localizer = ToyLocalizer(W.clone())
    cam = MODELS.build(dict(type='SmoothGradCAMPlusPlus', num_samples=3,
                            noise_std=0.2, seed=7,
                            samples_per_pass=samples_per_pass))
    maps, _ = cam(localizer, A, targets)
    noise = cam.noise(A).numpy()  # (n, B, K, h, w), same seed: same noise
    assert noise.shape == (3, ) + tuple(A.shape) and noise.std() > 0.1
    for i, c in enumerate(targets.tolist()):
        a = A[i].numpy()
        grads = [quadratic_grad(a + noise[m, i], W.numpy(), c)
                 for m in range(3)]
        d1, d2, d3 = (sum(g**p for g in grads) / 3 for p in (1, 2, 3))
        weights = gradcampp_by_loops(a, d1, d2, d3)  # clean activations
        np.testing.assert_allclose(
            maps[i].numpy(), relu(np.tensordot(weights, a, axes=1)),
            rtol=1e-10, atol=1e-12)


def test_gradcampp_simplified_form_equals_eq19():
    """GradCAMPlusPlus computes α·ReLU(g) as ReLU(g) / (2 + ΣA·g); compare
    with eq. 19 by loops, including negative activations, g = 0 and a
    vanishing denominator (ΣA = -4, g = 0.5: 2g² + ΣA·g³ = 0)."""
    torch.manual_seed(10)
    A = torch.randn(2, 3, 4, 4, dtype=torch.float64)
    g = torch.randn(2, 3, 4, 4, dtype=torch.float64)
    g[0, 0, :2] = 0
    A[1, 2] = -0.25  # sums to -4
    g[1, 2, 1, 1] = 0.5
    maps = MODELS.build(dict(type='GradCAMPlusPlus')).combine(A, g)
    for i in range(2):
        a, d = A[i].numpy(), g[i].numpy()
        weights = gradcampp_by_loops(a, d, d**2, d**3)
        np.testing.assert_allclose(
            maps[i].numpy(), relu(np.tensordot(weights, a, axes=1)),
            rtol=1e-10, atol=1e-12)


def test_smooth_gradcampp_without_noise_is_gradcampp():
    A, W, targets = toy_inputs(2)
    localizer = ToyLocalizer(W.clone())
    smooth, _ = MODELS.build(dict(type='SmoothGradCAMPlusPlus',
                                  noise_std=0.0))(localizer, A, targets)
    plain, _ = MODELS.build(dict(type='GradCAMPlusPlus'))(localizer, A,
                                                          targets)
    torch.testing.assert_close(smooth, plain, rtol=1e-12, atol=1e-14)


def test_smooth_gradcampp_relative_noise():
    cam = MODELS.build(dict(type='SmoothGradCAMPlusPlus', num_samples=2000,
                            noise_std=0.1, relative_noise=True))
    inputs = torch.stack([torch.zeros(1, 4, 4), torch.ones(1, 4, 4)])
    inputs[0, 0, 0, 0] = 10.0  # range 10; second image: range 0
    noise = cam.noise(inputs)
    assert noise[:, 0].std().item() == pytest.approx(1.0, rel=0.05)
    assert noise[:, 1].abs().max().item() == 0


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
        expected = np.zeros((3, 5))
        for k in range(4):
            expected += W[c, k] * A[i, k].numpy()
        np.testing.assert_allclose(maps[i].detach().numpy(), expected,
                                   rtol=1e-5, atol=1e-6)


def test_score_cam_matches_hand_formula():
    A, W, targets = toy_inputs(3)
    localizer = ToyLocalizer(W.clone())
    maps, _ = MODELS.build(dict(type='ScoreCAM', batch_size=5))(
        localizer, A, targets)  # 12 masked images in chunks of 5
    for i, c in enumerate(targets.tolist()):
        a = A[i].numpy()
        weights = np.zeros(4)
        for k in range(4):
            low, high = a[k].min(), a[k].max()
            if high == low:
                continue  # constant channel: weight 0
            mask = (a[k] - low) / (high - low)
            logits = quadratic_logits(a * mask, W.numpy())
            probs = np.exp(logits - logits.max())
            weights[k] = probs[c] / probs.sum()
        np.testing.assert_allclose(maps[i].numpy(),
                                   relu(np.tensordot(weights, a, axes=1)),
                                   rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize('shape', [(3, 6, 2, 3), (2, 4, 5, 6)],
                         ids=['hw<C', 'hw>C'])
def test_eigen_cam_matches_svd(shape):
    torch.manual_seed(4)
    A = torch.rand(*shape, dtype=torch.float64)
    A[0] = -A[0]  # negative activations: the sign rule must still hold
    localizer = ToyLocalizer(torch.randn(3, shape[1], dtype=torch.float64))
    maps, _ = MODELS.build(dict(type='EigenCAM'))(localizer, A)
    for i in range(shape[0]):
        O = A[i].numpy().reshape(shape[1], -1).T  # (hw, C)
        _, _, vt = np.linalg.svd(O, full_matrices=False)
        proj = O @ vt[0]
        proj = proj if proj.sum() >= 0 else -proj
        np.testing.assert_allclose(maps[i].detach().numpy().ravel(), proj,
                                   rtol=1e-8, atol=1e-10)


# ------------------------------------------ real backbones, per-image autograd
def tiny_localizer(num_classes=5, **backbone):
    model = MODELS.build(dict(
        type='WSOLLocalizer',
        backbone=dict(type='TinyResNet', **backbone),
        head=dict(type='GAPClsHead', num_classes=num_classes,
                  in_channels=128)))
    return model.eval()


def autograd_gradient(model, image, target, layer):
    """∂y_c/∂A for one image through the ordinary forward (no
    ``forward_from``): the output is kept with ``retain_grad``."""
    with torch.enable_grad():
        feats = model.extract_feat(image[None])
        feats[layer].retain_grad()
        model.head(feats)[0, target].backward()
    grad = feats[layer].grad[0].detach().double().numpy()
    model.zero_grad(set_to_none=True)
    return feats[layer][0].detach().double().numpy(), grad


@pytest.mark.parametrize('layer', [-1, -2, -3])
@pytest.mark.parametrize(
    'method', [m for m in GRADIENT_METHODS if m != 'SmoothGradCAMPlusPlus'])
def test_gradient_methods_match_per_image_autograd(method, layer):
    torch.manual_seed(5)
    model = tiny_localizer()
    images = torch.randn(3, 3, 32, 32)
    targets = torch.tensor([4, 0, 2])
    cam = MODELS.build(dict(type=method, target_layer=layer))
    with torch.no_grad():
        maps, _ = cam(model, images, targets)
    for i in range(3):
        A, g = autograd_gradient(model, images[i], int(targets[i]), layer)
        assert maps[i].shape == A.shape[1:]
        np.testing.assert_allclose(maps[i].numpy(),
                                   expected_from_gradient(method, A, g),
                                   rtol=2e-4, atol=1e-6)


@pytest.mark.parametrize('method', ALL_METHODS)
def test_batch_equals_single_images(method):
    torch.manual_seed(2)
    model = tiny_localizer()
    cfg = dict(type=method)
    if method == 'ScoreCAM':
        cfg['batch_size'] = 100  # chunks straddle images
    cam = MODELS.build(cfg)
    images = torch.randn(3, 3, 32, 32)
    targets = torch.tensor([4, 0, 2])
    with torch.no_grad():  # as in mmengine's test loop
        batch_maps, batch_logits = cam(model, images, targets)
        for i in range(3):
            single, logits = cam(model, images[i:i + 1], targets[i:i + 1])
            torch.testing.assert_close(batch_maps[i], single[0], rtol=1e-4,
                                       atol=1e-5)
            torch.testing.assert_close(batch_logits[i], logits[0],
                                       rtol=1e-4, atol=1e-5)


def test_predicted_class_when_no_target():
    torch.manual_seed(3)
    model = tiny_localizer()
    images = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        logits = model(images)
        for method in ('CAM', 'GradCAM'):
            cam = MODELS.build(dict(type=method))
            implicit, _ = cam(model, images)
            explicit, _ = cam(model, images, logits.argmax(1))
            torch.testing.assert_close(implicit, explicit)


def test_features_given_by_the_caller_are_reused():
    torch.manual_seed(6)
    model = tiny_localizer()
    images = torch.randn(2, 3, 32, 32)
    calls = []
    model.backbone.register_forward_hook(lambda *a: calls.append(1))
    with torch.no_grad():
        feats = model.extract_feat(images)
        for method in ('CAM', 'GradCAM', 'LayerCAM'):
            maps, _ = MODELS.build(dict(type=method))(
                model, images, torch.tensor([0, 1]), feats=feats)
    assert len(calls) == 1  # only the caller's forward


@pytest.mark.parametrize('frozen', [False, True])
@pytest.mark.parametrize('no_grad', [False, True])
@pytest.mark.parametrize('method', GRADIENT_METHODS)
def test_gradient_methods_leave_nothing_behind(method, frozen, no_grad):
    torch.manual_seed(7)
    model = tiny_localizer()
    for p in model.parameters():
        p.requires_grad_(not frozen)
    before = [p.requires_grad for p in model.parameters()]
    # parameters and BatchNorm statistics are the model's own state
    state = {id(t) for t in model.state_dict(keep_vars=True).values()}
    cam = MODELS.build(dict(type=method, target_layer=-2))
    images = torch.randn(2, 3, 32, 32)
    saved = []

    def pack(t):
        if id(t) not in state:
            saved.append(weakref.ref(t))
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        with torch.set_grad_enabled(not no_grad):
            maps, logits = cam(model, images)
    gc.collect()
    assert maps.shape == (2, 4, 4) and torch.isfinite(maps).all()
    assert maps.grad_fn is None and logits.grad_fn is None
    assert not maps.requires_grad and not logits.requires_grad
    assert saved, 'the backward pass saved no activation'
    assert all(ref() is None for ref in saved), 'graph memory still alive'
    assert [p.requires_grad for p in model.parameters()] == before
    assert all(p.grad is None for p in model.parameters())
    assert not any(m._forward_hooks or m._backward_hooks or
                   m._forward_pre_hooks or
                   getattr(m, '_backward_pre_hooks', None)
                   for m in model.modules())
    assert torch.is_grad_enabled()


def test_localizer_predict_with_every_method():
    torch.manual_seed(8)
    model = tiny_localizer()
    images = torch.randn(2, 3, 32, 32)
    for method in ALL_METHODS:
        model.cam = MODELS.build(dict(type=method))
        samples = [WSOLDataSample().set_gt_label(3),
                   WSOLDataSample().set_gt_label(1)]
        with torch.no_grad():
            out = model.predict(images, samples)
        assert [tuple(s.cam.shape) for s in out] == [(4, 4)] * 2
        assert all(torch.isfinite(s.cam).all() for s in out)
        assert out[0].pred_score.shape == (5, )


def test_maps_are_on_the_inputs_device_and_dtype():
    model = tiny_localizer().double()
    images = torch.randn(2, 3, 32, 32, dtype=torch.float64)
    with torch.no_grad():
        for method in ALL_METHODS:
            maps, logits = MODELS.build(dict(type=method))(model, images)
            assert maps.dtype == torch.float64 == logits.dtype, method
            assert maps.device == images.device


# ------------------------------------------------------------ WSOL backbones
BACKBONES = [('ResNet50WSOL', 2048, (64, 256, 512, 1024, 2048)),
             ('VGG16WSOL', 1024, (128, 256, 1024)),
             ('InceptionV3WSOL', 1024, (64, 80, 288, 768, 1024))]


def wsol_localizer(backbone, channels):
    torch.manual_seed(9)
    model = MODELS.build(dict(
        type='WSOLLocalizer', backbone=dict(type=backbone),
        head=dict(type='GAPClsHead', num_classes=4, in_channels=channels)))
    # A random GAP head gives tiny scores; spread them a little.
    nn.init.normal_(model.head.fc.weight, std=1.0)
    return model.eval()


@pytest.mark.parametrize('backbone,channels,skips', BACKBONES,
                         ids=[b[0] for b in BACKBONES])
def test_target_layer_selects_the_same_output_on_every_backbone(
        backbone, channels, skips):
    model = wsol_localizer(backbone, channels)
    images = torch.randn(2, 3, 64, 64)
    targets = torch.tensor([1, 3])
    with torch.no_grad():
        feats = model.extract_feat(images)
        for layer in (-1, -2):
            cam = MODELS.build(dict(type='LayerCAM', target_layer=layer))
            maps, _ = cam(model, images, targets, feats=feats)
            assert maps.shape == (2, ) + feats[layer].shape[2:]
            for i in range(2):
                single, _ = cam(model, images[i:i + 1], targets[i:i + 1])
                torch.testing.assert_close(maps[i], single[0], rtol=1e-4,
                                           atol=1e-6)
    # an intermediate layer against per-image autograd of the plain forward
    A, g = autograd_gradient(model, images[1], 3, -2)
    np.testing.assert_allclose(maps[1].numpy(),
                               expected_from_gradient('LayerCAM', A, g),
                               rtol=1e-3, atol=1e-6)


# ------------------------------------------------------------------- errors
def test_errors_name_the_problem():
    model = tiny_localizer()
    images = torch.randn(1, 3, 32, 32)
    with pytest.raises(ValueError, match='not the layer the head reads'):
        MODELS.build(dict(type='CAM', target_layer=1))(model, images)
    with pytest.raises(IndexError, match='returns 4 outputs'):
        MODELS.build(dict(type='GradCAM', target_layer=7))(model, images)
    with pytest.raises(TypeError, match='target_layer must be an int'):
        MODELS.build(dict(type='GradCAM', target_layer='layer4'))
    with pytest.raises(ValueError, match='num_samples'):
        MODELS.build(dict(type='SmoothGradCAMPlusPlus', num_samples=0))
    with pytest.raises(ValueError, match='samples_per_pass'):
        MODELS.build(dict(type='SmoothGradCAMPlusPlus', samples_per_pass=0))
    with pytest.raises(ValueError, match='batch_size'):
        MODELS.build(dict(type='ScoreCAM', batch_size=0))
    with pytest.raises(ValueError, match='targets must have shape'):
        MODELS.build(dict(type='GradCAM'))(model, images,
                                           torch.tensor([1, 2]))
    # head on an earlier output: later layers do not affect the score
    model.head.in_index = 2
    with pytest.raises(ValueError, match='comes after the output the head'):
        MODELS.build(dict(type='GradCAM', target_layer=3))(
            model, images, feats=tuple(
                torch.zeros(1, c, 4, 4) for c in (16, 32, 128, 128)))
    # a backbone that cannot be re-entered
    toy = ToyLocalizer(torch.randn(3, 4, dtype=torch.float64))
    toy.extract_feat = lambda x: (x, x)
    toy.head.in_index = -1
    with pytest.raises(NotImplementedError, match='forward_from'):
        MODELS.build(dict(type='GradCAM', target_layer=0))(
            toy, torch.rand(1, 4, 3, 3, dtype=torch.float64))


def test_head_in_index_out_of_range_is_named():
    """A head reading an output the backbone does not have fails with the
    head's in_index and the number of outputs, not a wrapped index."""
    from types import SimpleNamespace

    from fcam_mm.models.cams.base_cam import BaseCAM
    feats = [torch.zeros(1)] * 4
    ok = SimpleNamespace(head=SimpleNamespace(in_index=-1))
    assert BaseCAM.head_index(ok, feats) == 3
    bad = SimpleNamespace(head=SimpleNamespace(in_index=4))
    with pytest.raises(IndexError, match='in_index=4 but the backbone '
                       'returns 4 outputs'):
        BaseCAM.head_index(bad, feats)
