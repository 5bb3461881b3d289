"""FSLSegmenter: the per-pixel loss and its ignored pixels, the map it
predicts, the frozen backbone, and its initialisation."""
import math

import numpy as np
import pytest
import torch
from mmengine.optim import OptimWrapper

from fcam_mm.models.localizers import FSLSegmenter
from fcam_mm.structures import WSOLDataSample
from fcam_mm.utils import register_all_modules

register_all_modules()

BACKBONE = dict(type='TinyResNet')
DECODER = dict(type='FCAMUNetDecoder', in_channels=(16, 32, 64, 128),
               decoder_channels=(64, 32, 16, 16))


def segmenter(backbone_init=None, **kwargs):
    torch.manual_seed(0)
    model = FSLSegmenter(backbone=dict(BACKBONE, init_cfg=backbone_init),
                         decoder=DECODER, **kwargs)
    model.init_weights()
    return model


def sample_with_target(target):
    sample = WSOLDataSample()
    sample.gt_seg_map = torch.as_tensor(np.asarray(target, np.uint8))
    return sample


def hand_ce(logits, labels, ignore=255):
    """Mean of -log softmax(logits)[label] over the labelled pixels,
    pixel by pixel in float64."""
    logits = logits.detach().double().numpy()
    total, count = 0.0, 0
    for b, c_y, c_x in np.ndindex(labels.shape):
        label = int(labels[b, c_y, c_x])
        if label == ignore:
            continue
        z = logits[b, :, c_y, c_x]
        log_norm = z.max() + math.log(np.exp(z - z.max()).sum())
        total += log_norm - z[label]
        count += 1
    return total / count


def test_loss_is_the_ce_of_the_non_ignored_pixels():
    model = segmenter()
    model.eval()  # the same BN statistics in both forwards
    inputs = torch.randn(2, 3, 16, 16)
    rng = np.random.default_rng(0)
    first = rng.integers(0, 2, (16, 16))
    first[:5, :] = 255  # an ignore region
    # the second image is 12x14: the preprocessor padded it to 16x16, and
    # the padding must not count
    second = rng.integers(0, 2, (12, 14))
    second[3, 4] = 255
    samples = [sample_with_target(first), sample_with_target(second)]
    loss = model(inputs, samples, mode='loss')['loss_seg']

    logits = model(inputs, mode='tensor')
    labels = np.full((2, 16, 16), 255)
    labels[0] = first
    labels[1, :12, :14] = second
    assert (labels != 255).sum() == 16 * 11 + 12 * 14 - 1
    assert loss.item() == pytest.approx(hand_ce(logits, labels), rel=1e-5)
    # an ignore pixel's logits do not reach the loss: changing its label
    # from 255 to a class must change it
    samples[0].gt_seg_map[0, 0] = 1
    assert model(inputs, samples, mode='loss')['loss_seg'].item() != \
        pytest.approx(loss.item(), rel=1e-9)


def test_targets_are_padded_with_the_ignore_value():
    model = segmenter()
    targets = model.stack_targets(
        [sample_with_target(np.ones((3, 4))),
         sample_with_target(np.zeros((5, 2)))], (5, 6), torch.device('cpu'))
    expected = np.full((2, 5, 6), 255)
    expected[0, :3, :4] = 1
    expected[1, :, :2] = 0
    np.testing.assert_array_equal(targets.numpy(), expected)
    assert targets.dtype == torch.long
    with pytest.raises(KeyError, match="seg_target="):
        model.stack_targets([WSOLDataSample()], (5, 6), torch.device('cpu'))
    with pytest.raises(ValueError, match='larger than the batch'):
        model.stack_targets([sample_with_target(np.ones((6, 6)))], (5, 6),
                            torch.device('cpu'))


def test_predict_gives_the_foreground_probability_and_no_class_score():
    model = segmenter().eval()
    inputs = torch.randn(2, 3, 20, 24)
    samples = model(inputs, [WSOLDataSample(), WSOLDataSample()],
                    mode='predict')
    expected = model(inputs, mode='tensor').softmax(dim=1)[:, 1]
    for sample, fmap in zip(samples, expected):
        assert sample.fcam.shape == (20, 24)
        assert torch.allclose(sample.fcam, fmap)
        assert 'pred_score' not in sample and 'cam' not in sample


def test_box_metric_scores_the_map_without_a_classifier():
    """The metric reads ``fcam``; with topk=() it reports the GT-known box
    accuracies and no top-k localization, and it refuses top-k without a
    class score rather than inventing one."""
    from fcam_mm.evaluation.metrics import BoxLocalizationMetric
    fmap = torch.zeros(20, 20)
    fmap[5:15, 4:12] = 1.0
    sample = dict(fcam=fmap, ori_shape=(20, 20), gt_label=torch.tensor([0]),
                  gt_bboxes=torch.tensor([[4., 5., 11., 14.]]))
    metric = BoxLocalizationMetric(map_key='fcam', topk=(), eval_size=20,
                                   prefix='fsl')
    metric.process(None, [sample])
    results = metric.evaluate(1)
    assert results['fsl/MaxBoxAcc'] == 100.0
    assert results['fsl/gt_known'] == 100.0
    assert not any('top' in key for key in results)
    with pytest.raises(KeyError, match='pred_score'):
        BoxLocalizationMetric(map_key='fcam', eval_size=20).process(
            None, [sample])


def train_step(model, lr=0.1):
    optim = OptimWrapper(torch.optim.SGD(
        [p for p in model.parameters() if p.requires_grad], lr=lr))
    data = dict(inputs=[torch.randint(0, 256, (3, 16, 16), dtype=torch.uint8)
                        for _ in range(2)],
                data_samples=[sample_with_target(np.eye(16)),
                              sample_with_target(1 - np.eye(16))])
    model.train()
    return model.train_step(data, optim)


def snapshot(module):
    return {k: v.clone() for k, v in module.state_dict().items()}


@pytest.mark.parametrize('frozen', [True, False])
def test_frozen_backbone_keeps_weights_and_bn_statistics(frozen):
    model = segmenter(freeze_backbone=frozen)
    backbone, decoder = snapshot(model.backbone), snapshot(model.decoder)
    train_step(model)
    bn_stats = [k for k in backbone if k.endswith('running_mean')]
    assert bn_stats
    changed = [k for k, v in model.backbone.state_dict().items()
               if not torch.equal(v, backbone[k])]
    if frozen:
        # parameters and running statistics alike; still in eval mode
        assert changed == []
        assert not model.backbone.training and model.decoder.training
        assert not any(p.requires_grad for p in model.backbone.parameters())
    else:
        assert set(bn_stats) <= set(changed)
        assert any(k.endswith('conv.weight') for k in changed)
    assert any(not torch.equal(v, decoder[k])
               for k, v in model.decoder.state_dict().items())


def test_backbone_checkpoint_and_its_absence(tmp_path):
    source = segmenter()
    with torch.no_grad():
        for param in source.backbone.parameters():
            param.add_(1.0)
    path = str(tmp_path / 'stage1.pth')
    # a full-model checkpoint, backbone keys under 'backbone.'
    torch.save(dict(state_dict={f'backbone.{k}': v for k, v in
                                source.backbone.state_dict().items()}), path)
    loaded = segmenter(dict(type='Pretrained', checkpoint=path,
                            prefix='backbone.'), freeze_backbone=True)
    for key, value in source.backbone.state_dict().items():
        assert torch.equal(loaded.backbone.state_dict()[key], value), key

    # checkpoint=None: from scratch (the same weights as no init_cfg at
    # all), unless the backbone is frozen
    scratch = dict(type='Pretrained', checkpoint=None, prefix='backbone.')
    from_scratch, no_init_cfg = segmenter(scratch), segmenter()
    for key, value in from_scratch.state_dict().items():
        assert torch.equal(no_init_cfg.state_dict()[key], value), key
    with pytest.raises(ValueError, match='init_cfg.checkpoint=CKPT'):
        segmenter(scratch, freeze_backbone=True)


def test_decoder_must_give_two_maps():
    with pytest.raises(ValueError, match='out_channels must be 2'):
        FSLSegmenter(backbone=BACKBONE, decoder=dict(DECODER, out_channels=3))
