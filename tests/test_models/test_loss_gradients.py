"""loss_term_pushes: each F-CAM term's push on the foreground, checked on a
decoder whose output is constant, where every push is known by hand."""
import pytest
import torch

from fcam_mm.models.utils.loss_gradients import loss_term_pushes
from fcam_mm.models.utils.sampling_regions import (sample_pseudo_labels,
                                                   sampling_regions)
from fcam_mm.registry import MODELS
from fcam_mm.utils import register_all_modules

register_all_modules()


def constant_decoder_model(fg_bias):
    model = MODELS.build(dict(
        type='FCAMLocalizer',
        backbone=dict(type='TinyResNet', stem_channels=8,
                      stage_channels=(8, 8, 8)),
        head=dict(type='GAPClsHead', num_classes=3, in_channels=8),
        decoder=dict(type='FCAMUNetDecoder', in_channels=(8, 8, 8, 8),
                     decoder_channels=(8, 8, 8, 8)),
        seed_cfg=dict(n_neg=0.2, erode_kernel=3)))
    model.set_stage(2)
    model.eval()
    with torch.no_grad():  # logits (0, fg_bias) at every pixel
        model.decoder.head.weight.zero_()
        model.decoder.head.bias.copy_(torch.tensor([0.0, fg_bias]))
    return model


def batch():
    torch.manual_seed(0)
    inputs = torch.randn(2, 3, 32, 32)
    yy, xx = torch.meshgrid(torch.arange(32.), torch.arange(32.),
                            indexing='ij')
    cam = torch.exp(-((xx - 12)**2 + (yy - 14)**2) / 40.0)
    cams = torch.stack([cam, cam.flip(1)])
    objects = torch.zeros(2, 32, 32, dtype=torch.bool)
    objects[:, 6:24, 4:22] = True
    objects[1] = objects[1].flip(1)
    return inputs, cams, objects


def test_seed_push_by_hand():
    model = constant_decoder_model(0.0)  # p = 0.5 everywhere
    inputs, cams, objects = batch()
    pushes = loss_term_pushes(model, inputs, cams, objects,
                              torch.Generator().manual_seed(3))
    seeds = sample_pseudo_labels(cams, generator=torch.Generator()
                                 .manual_seed(3), **model.seed_cfg)
    positive, _ = sampling_regions(cams, n_neg=0.2, erode_kernel=3)
    labelled = (seeds != 255).sum().item()
    # partial CE = mean over labelled pixels: a foreground seed at p = 0.5
    # pushes by 0.5 / N, a background seed by -0.5 / N, the rest by 0
    per_seed = 0.5 / labelled
    regions = dict(object_in_c_pos=objects & positive,
                   object_outside_c_pos=objects & ~positive,
                   background=~objects)
    for name, region in regions.items():
        expected = per_seed * (((seeds == 1) & region).sum() -
                               ((seeds == 0) & region).sum()).item()
        got = pushes['loss_seed'][f'push/{name}']
        assert got == pytest.approx(expected, rel=1e-6, abs=1e-9), name
        assert pushes['loss_seed'][f'pixels/{name}'] == region.sum().item()
    assert pushes['loss_seed']['grad_norm'] > 0


def test_size_and_crf_pushes_on_a_constant_map():
    inputs, cams, objects = batch()
    balanced = loss_term_pushes(constant_decoder_model(0.0), inputs, cams,
                                objects, torch.Generator().manual_seed(0))
    # equal foreground and background sizes: ASC's two barriers cancel;
    # a constant map has no cut: the CRF's gradient is the same for both
    # channels
    for term in ('loss_size', 'loss_crf'):
        for region in ('object_in_c_pos', 'object_outside_c_pos',
                       'background'):
            assert balanced[term][f'push/{region}'] == pytest.approx(
                0.0, abs=1e-9)
    # a small foreground: ASC grows it everywhere, by
    # λ/(2B) · (1/(t·size_fg) - 1/(t·size_bg)) · p(1-p) per pixel
    small = loss_term_pushes(constant_decoder_model(-2.0), inputs, cams,
                             objects, torch.Generator().manual_seed(0))
    p = torch.sigmoid(torch.tensor(-2.0)).item()
    pixels = 32 * 32
    size_fg, size_bg = p * pixels, (1 - p) * pixels
    expected = 0.1 / 2 / 2 * (1 / size_fg - 1 / size_bg) * p * (1 - p)
    # push = (dL/dl_bg - dL/dl_fg) / 2, and dS_fg/dl_fg = p(1 - p)
    for region in ('object_in_c_pos', 'object_outside_c_pos', 'background'):
        assert small['loss_size'][f'push/{region}'] / small['loss_size'][
            f'pixels/{region}'] == pytest.approx(expected, rel=1e-4)


def test_one_step_change_is_the_linearised_push():
    """A plain SGD step on one term moves the margin by -lr · J g; on the
    head's bias alone (a constant decoder) that is -lr·(g_fg - g_bg) at
    every pixel, the same everywhere."""
    model = constant_decoder_model(0.0)
    inputs, cams, objects = batch()
    for p in model.decoder.parameters():
        p.requires_grad_(False)
    model.decoder.head.bias.requires_grad_(True)
    lr = 0.5
    pushes = loss_term_pushes(model, inputs, cams, objects,
                              torch.Generator().manual_seed(3), step_lr=lr)
    seeds = sample_pseudo_labels(cams, generator=torch.Generator()
                                 .manual_seed(3), **model.seed_cfg)
    labelled = (seeds != 255).sum().item()
    fg, bg = (seeds == 1).sum().item(), (seeds == 0).sum().item()
    # d loss / d bias_fg = sum over labelled of (p - y_fg) / N
    g_fg = (0.5 * bg - 0.5 * fg) / labelled
    expected = -lr * (g_fg - (-g_fg))
    row = pushes['loss_seed']
    for region in ('object_in_c_pos', 'object_outside_c_pos', 'background'):
        per_pixel = row[f'step/{region}'] / row[f'pixels/{region}']
        assert per_pixel == pytest.approx(expected, rel=1e-4, abs=1e-7)
    assert model.decoder.head.bias.tolist() == [0.0, 0.0]  # restored
