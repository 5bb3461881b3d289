"""F-CAM's losses under ``--amp``: inside CPU bfloat16 autocast the dense
CRF (both backends), the size constraint, the seed cross-entropy and the
seeds' Otsu split run in float32, so on the same inputs they give the
float32 values exactly; the whole stage-2 loss of the tinyresnet F-CAM,
whose decoder does run in bfloat16, stays within a stated tolerance of its
float32 loss."""
import os.path as osp

import pytest
import torch
from mmengine.config import Config

from fcam_mm.models.losses import (AbsoluteSizeConstraintLoss, DenseCRFLoss,
                                   PartialCrossEntropyLoss)
from fcam_mm.models.utils import otsu_threshold, sample_pseudo_labels
from fcam_mm.registry import MODELS
from fcam_mm.structures import WSOLDataSample

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
BF16 = dict(device_type='cpu', dtype=torch.bfloat16)


def bf16_inputs(seed=0, size=32):
    g = torch.Generator().manual_seed(seed)
    images = torch.rand(2, 3, size, size, generator=g) * 255
    logits = torch.randn(2, 2, size, size, generator=g).bfloat16()
    return images, logits


@pytest.mark.parametrize('backend', ['lattice', 'exact'])
def test_crf_is_float32_inside_autocast(backend):
    images, logits = bf16_inputs()
    probs = logits.float().softmax(1).bfloat16()
    crf = DenseCRFLoss(loss_weight=1.0, backend=backend)
    reference = crf(probs.float(), images)
    with torch.autocast(**BF16):
        loss = crf(probs, images)
    assert loss.dtype == torch.float32
    assert torch.equal(loss, reference)


def test_size_and_seed_losses_are_float32_inside_autocast():
    _, logits = bf16_inputs(1, size=224)
    probs = logits.float().softmax(1).bfloat16()
    asc = AbsoluteSizeConstraintLoss(t=5.0)
    seeds = torch.full((2, 224, 224), 255, dtype=torch.long)
    seeds[:, 100:110, 100:110] = 1
    seeds[:, :5, :5] = 0
    ce = PartialCrossEntropyLoss()
    with torch.autocast(**BF16):
        size_loss, seed_loss = asc(probs), ce(logits, seeds)
        # unguarded, the size sum over a 224² map is kept in bfloat16
        unguarded = AbsoluteSizeConstraintLoss.forward.__wrapped__(
            asc, probs)
    assert size_loss.dtype == seed_loss.dtype == torch.float32
    assert torch.equal(size_loss, asc(probs.float()))
    assert torch.equal(seed_loss, ce(logits.float(), seeds))
    assert unguarded.dtype == torch.bfloat16


def test_otsu_and_seeds_inside_autocast():
    g = torch.Generator().manual_seed(2)
    cams = torch.rand(3, 40, 40, generator=g).bfloat16()
    with torch.autocast(**BF16):
        thresholds = otsu_threshold(cams)
        seeds = sample_pseudo_labels(
            cams, generator=torch.Generator().manual_seed(0))
    assert thresholds.dtype == torch.float32
    assert torch.equal(thresholds, otsu_threshold(cams.float()))
    assert torch.equal(seeds, sample_pseudo_labels(
        cams.float(), generator=torch.Generator().manual_seed(0)))


#: |bf16 − fp32| / fp32 allowed for each stage-2 loss term of the tinyresnet
#: F-CAM with a bfloat16 decoder: one bfloat16 rounding (8-bit mantissa,
#: 2⁻⁸ ≈ 0.4 %). Measured on this batch: seed 0.047 %, CRF 0.006 %,
#: size 0.0006 %.
STAGE2_RTOL = 2**-8
#: cosine between the decoder's float32 and bfloat16 gradients (measured
#: 0.983: the backward pass also runs the convolutions in bfloat16).
GRADIENT_COSINE = 0.95


def test_stage2_loss_bf16_within_tolerance():
    cfg = Config.fromfile(osp.join(REPO, 'configs', 'fcam',
                                   'tinyresnet_synthetic.py'))
    cfg.model.backbone.init_cfg = None
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.set_stage(2)
    model.train()
    g = torch.Generator().manual_seed(3)
    inputs = torch.randn(4, 3, 64, 64, generator=g)
    labels = torch.tensor([0, 1, 2, 3])
    with torch.no_grad():
        feats = model.extract_feat(inputs)
    seeds = model.pseudo_labels(inputs, labels, feats)

    reference = model.decoder_losses(model.decoder(feats, (64, 64)), seeds,
                                     inputs)
    with torch.autocast(**BF16):
        logits = model.decoder(feats, (64, 64))
        losses = model.decoder_losses(logits, seeds, inputs)
    assert logits.dtype == torch.bfloat16  # the decoder is mixed precision
    for name in ('loss_seed', 'loss_crf', 'loss_size'):
        assert losses[name].dtype == torch.float32, name
        assert torch.isfinite(losses[name]), name
        error = (losses[name] - reference[name]).abs() / reference[name].abs()
        assert error < STAGE2_RTOL, (name, float(error))
    # the loss drives the same update direction: gradients of the decoder
    # in both precisions point the same way
    def grad_vector(autocast):
        model.zero_grad()
        with torch.autocast(**BF16, enabled=autocast):
            out = model.decoder_losses(model.decoder(feats, (64, 64)),
                                       seeds, inputs)
        sum(v for k, v in out.items() if k.startswith('loss')).backward()
        return torch.cat([p.grad.flatten().float()
                          for p in model.decoder.parameters()
                          if p.grad is not None])
    fp32, bf16 = grad_vector(False), grad_vector(True)
    cosine = torch.nn.functional.cosine_similarity(fp32, bf16, dim=0)
    assert cosine > GRADIENT_COSINE, float(cosine)
