"""Bad input to F-CAM's losses and seeding: one clear error naming what is
wrong, or a documented defined behaviour (degenerate CAMs get no seeds and
then contribute no seed loss, never a NaN)."""
import math

import pytest
import torch
import torch.nn as nn

from fcam_mm.models.losses import (AbsoluteSizeConstraintLoss, DenseCRFLoss,
                                   PartialCrossEntropyLoss)
from fcam_mm.models.utils import IGNORE_INDEX, sample_pseudo_labels
from fcam_mm.models.utils.sampling_regions import (SEED_CFG_KEYS,
                                                   check_seed_cfg)
from fcam_mm.registry import MODELS

BAD_WEIGHTS = [-1e-9, -1, float('nan'), float('inf'), -float('inf'), True,
               '0.1', None]


@pytest.mark.parametrize('weight', BAD_WEIGHTS)
@pytest.mark.parametrize('loss_type, name', [
    (DenseCRFLoss, 'λ of the CRF'),
    (PartialCrossEntropyLoss, 'α'),
    (AbsoluteSizeConstraintLoss, 'λ_asc'),
])
def test_loss_weights_must_be_finite_and_non_negative(loss_type, name,
                                                      weight):
    with pytest.raises(ValueError, match=f'loss_weight \\({name}\\)'):
        loss_type(loss_weight=weight)


@pytest.mark.parametrize('loss_type', [
    DenseCRFLoss, PartialCrossEntropyLoss, AbsoluteSizeConstraintLoss
])
def test_zero_weight_is_allowed_and_gives_zero(loss_type):
    loss = loss_type(loss_weight=0)
    assert loss.loss_weight == 0.0
    probs = torch.rand(1, 2, 6, 6).softmax(1)
    if loss_type is PartialCrossEntropyLoss:
        value = loss(probs, torch.zeros(1, 6, 6, dtype=torch.long))
    elif loss_type is DenseCRFLoss:
        value = loss(probs, torch.rand(1, 3, 6, 6) * 255)
    else:
        value = loss(probs)
    assert value.item() == 0.0


@pytest.mark.parametrize('key', ['sigma_rgb', 'sigma_xy', 'scale_factor'])
@pytest.mark.parametrize('value', [0, -15.0, float('nan'), float('inf')])
def test_crf_kernel_arguments_must_be_positive_and_finite(key, value):
    with pytest.raises(ValueError, match=key):
        DenseCRFLoss(**{key: value})


def test_crf_image_of_another_size_than_its_map():
    loss = DenseCRFLoss(sigma_xy=5.0)
    probs = torch.rand(2, 2, 8, 8).softmax(1)
    for images in (torch.rand(2, 3, 8, 9), torch.rand(2, 3, 16, 16),
                   torch.rand(3, 3, 8, 8)):
        with pytest.raises(ValueError) as err:
            loss(probs, images * 255)
        # both shapes are named
        assert str(tuple(probs.shape)) in str(err.value)
        assert str(tuple(images.shape)) in str(err.value)


def test_seed_labels_of_another_size_than_the_logits():
    with pytest.raises(ValueError, match=r'\(1, 2, 8, 8\).*\(1, 8, 9\)'):
        PartialCrossEntropyLoss()(torch.rand(1, 2, 8, 8),
                                  torch.zeros(1, 8, 9, dtype=torch.long))


@pytest.mark.parametrize('ignore_index', [0, 1])
def test_ignore_index_that_is_a_class_label(ignore_index):
    loss = PartialCrossEntropyLoss(ignore_index=ignore_index)
    with pytest.raises(ValueError, match='ignore_index=.* class label'):
        loss(torch.rand(1, 2, 4, 4), torch.zeros(1, 4, 4, dtype=torch.long))
    # with three classes, 2 is a label too; -100 (torch's default) is not
    with pytest.raises(ValueError, match='ignore_index'):
        PartialCrossEntropyLoss(ignore_index=2)(
            torch.rand(1, 3, 4, 4), torch.zeros(1, 4, 4, dtype=torch.long))
    labels = torch.full((1, 4, 4), -100, dtype=torch.long)
    labels[0, 0, 0] = 1
    logits = torch.zeros(1, 3, 4, 4)
    value = PartialCrossEntropyLoss(ignore_index=-100)(logits, labels)
    assert math.isclose(value.item(), math.log(3), rel_tol=1e-6)


# ------------------------------------------------------------ seed config
@pytest.mark.parametrize('n_neg', [0, 1, 0.0, 1.0, -0.1, 1.5, float('nan'),
                                   True, '0.3'])
def test_n_neg_outside_the_open_unit_interval(n_neg):
    with pytest.raises(ValueError, match=r'n_neg .* must be in \(0, 1\)'):
        check_seed_cfg(dict(n_neg=n_neg))


@pytest.mark.parametrize('cfg, key', [
    (dict(num_pos=-1), 'num_pos'), (dict(num_neg=0.5), 'num_neg'),
    (dict(erode_kernel=4), 'erode_kernel'), (dict(seed_size=0), 'seed_size'),
    (dict(ignore_index=1), 'ignore_index'), (dict(n_negative=0.2), 'n_neg'),
])
def test_seed_cfg_names_the_bad_key(cfg, key):
    with pytest.raises(ValueError, match=key):
        check_seed_cfg(cfg)


def test_seed_cfg_unknown_key_lists_the_keys():
    with pytest.raises(ValueError) as err:
        check_seed_cfg(dict(n_neg=0.2, erode=11))
    assert "['erode']" in str(err.value)
    for key in SEED_CFG_KEYS:
        assert key in str(err.value)


def test_seed_cfg_keys_are_those_of_sample_pseudo_labels():
    import inspect
    params = set(inspect.signature(sample_pseudo_labels).parameters)
    assert set(SEED_CFG_KEYS) == params - {'cams', 'generator'}
    # every valid configuration passes, also a partial one
    check_seed_cfg({})
    check_seed_cfg(dict(n_neg=0.7, num_pos=2, num_neg=0, erode_kernel=1,
                        seed_size=5, ignore_index=-1))


def tiny_fcam_cfg(**changes):
    cfg = dict(
        type='FCAMLocalizer', backbone=dict(type='TinyResNet'),
        head=dict(type='GAPClsHead', num_classes=3, in_channels=128),
        cam=dict(type='CAM'),
        decoder=dict(type='FCAMUNetDecoder', in_channels=(16, 32, 64, 128),
                     decoder_channels=(64, 32, 16, 16)))
    cfg.update(changes)
    return cfg


def test_seed_and_loss_ignore_index_must_agree():
    from fcam_mm.utils import register_all_modules
    register_all_modules()
    with pytest.raises(ValueError, match=r'seed_cfg.ignore_index=-100 '
                       r'differs from seed_loss.ignore_index=255'):
        MODELS.build(tiny_fcam_cfg(seed_cfg=dict(ignore_index=-100)))
    # Set on the loss only: the seeds follow it.
    model = MODELS.build(tiny_fcam_cfg(seed_loss=dict(
        type='PartialCrossEntropyLoss', ignore_index=-100)))
    assert model.seed_cfg['ignore_index'] == -100
    both = MODELS.build(tiny_fcam_cfg(
        seed_cfg=dict(ignore_index=-1),
        seed_loss=dict(type='PartialCrossEntropyLoss', ignore_index=-1)))
    assert both.seed_cfg['ignore_index'] == -1


# ------------------------------------------------------------ degenerate CAMs
def smooth_cam(h=16, w=16):
    y, x = torch.meshgrid(torch.arange(h), torch.arange(w), indexing='ij')
    return torch.exp(-((x - 5.0)**2 + (y - 6.0)**2) / 20.0)


@pytest.mark.parametrize('make_bad', [
    lambda c: torch.zeros_like(c),
    lambda c: torch.full_like(c, float('nan')),
    lambda c: c.index_put((torch.tensor([3]), torch.tensor([4])),
                          torch.tensor(float('nan'))),
    lambda c: c.index_put((torch.tensor([0]), torch.tensor([0])),
                          torch.tensor(float('inf'))),
    lambda c: c.index_put((torch.tensor([0]), torch.tensor([0])),
                          torch.tensor(-float('inf'))),
], ids=['all_zero', 'all_nan', 'one_nan', 'one_inf', 'one_minus_inf'])
def test_degenerate_cam_gets_no_seed_and_leaves_others_alone(make_bad):
    good = smooth_cam()
    cams = torch.stack([good, make_bad(good.clone()), good])
    gen = torch.Generator().manual_seed(0)
    labels = sample_pseudo_labels(cams, n_neg=0.3, generator=gen)
    assert (labels[1] == IGNORE_INDEX).all()
    for i in (0, 2):
        assert (labels[i] == 1).any() and (labels[i] == 0).any()
        # foreground seeds near the bump, background seeds far from it
        assert good[labels[i] == 1].min() > good[labels[i] == 0].max()


class ConstantCAM(nn.Module):
    """A CAM method returning ``value`` everywhere (28×28 → resized)."""

    def __init__(self, value):
        super().__init__()
        self.value = value

    def forward(self, model, inputs, labels, feats=None):
        maps = torch.full((inputs.shape[0], 7, 7), self.value)
        return maps, None


def tiny_fcam(cam_value):
    model = MODELS.build(
        dict(
            type='FCAMLocalizer',
            backbone=dict(type='TinyResNet'),
            head=dict(type='GAPClsHead', num_classes=3, in_channels=128),
            cam=dict(type='CAM'),
            decoder=dict(type='FCAMUNetDecoder', in_channels=(16, 32, 64, 128),
                         decoder_channels=(16, 16, 16, 16)),
            crf_loss=dict(type='DenseCRFLoss', sigma_xy=10.0),
            stage=2))
    model.cam = ConstantCAM(cam_value)
    return model


@pytest.mark.parametrize('value', [0.0, float('nan')])
def test_stage2_loss_with_an_unseedable_cam_is_defined(value):
    """A constant or NaN CAM gives no seeds: the seed term is exactly 0 (not
    NaN), the CRF and size terms are unchanged and finite, and the decoder
    still gets finite gradients from them."""
    from fcam_mm.structures import WSOLDataSample
    torch.manual_seed(0)
    model = tiny_fcam(value).train()
    inputs = torch.rand(2, 3, 32, 32) * 255
    samples = []
    for label in (0, 2):
        sample = WSOLDataSample()
        sample.set_gt_label(label)
        samples.append(sample)
    losses = model.loss(inputs, samples)
    assert losses['loss_seed'].item() == 0.0
    assert all(torch.isfinite(v) for v in losses.values())
    sum(losses.values()).backward()
    grads = [p.grad for p in model.decoder.parameters() if p.grad is not None]
    assert grads and all(torch.isfinite(g).all() for g in grads)
    assert any(g.abs().sum() > 0 for g in grads)
