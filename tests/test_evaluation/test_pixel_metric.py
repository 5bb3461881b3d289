"""PixelLocalizationMetric against the literal reference procedure."""
import cv2
import numpy as np
import pytest
import torch

from fcam_mm.evaluation import PixelLocalizationMetric
from fcam_mm.evaluation.functional import (cam_threshold_list,
                                           resize_mask_nearest)
from fcam_mm.evaluation.functional.wsol_protocol import NormalizedScoreBinner

from . import reference_protocol as ref


def random_mask_samples(n, seed):
    rng = np.random.default_rng(seed)
    samples = []
    for i in range(n):
        h, w = (int(v) for v in rng.integers(30, 300, 2))
        low = cv2.resize(rng.random((5, 5)), (w, h),
                         interpolation=cv2.INTER_LINEAR)
        mask = (low > 0.6).astype(np.uint8)
        ignore = (rng.random((h, w)) < 0.1) & (mask == 0)
        mask[ignore] = 255
        r = (7, 14, 28)[i % 3]
        samples.append(dict(
            cam=torch.from_numpy(rng.random((r, r)).astype(np.float32)),
            gt_mask=mask, ori_shape=(h, w)))
    return samples


def reference_input(samples):
    out = []
    for s in samples:
        mask = np.asarray(s['gt_mask'])
        # the reference's mask: 1 object, 255 ignore-minus-object, 0 else
        out.append(dict(cam=s['cam'].numpy(), gt_mask=mask))
    return out


@pytest.mark.parametrize('size', [(224, 224), (40, 56)])
def test_pxap_matches_the_reference(size):
    samples = random_mask_samples(8, seed=0)
    metric = PixelLocalizationMetric(eval_size=size)
    for i in range(0, 8, 3):
        metric.process(None, samples[i:i + 3])
    out = metric.evaluate(8)
    auc, pos, neg = ref.pxap_evaluation(reference_input(samples), size)
    assert out['pxap/PxAP'] == auc
    np.testing.assert_array_equal(metric.curves['pos_hist'], pos)
    np.testing.assert_array_equal(metric.curves['neg_hist'], neg)
    all_pixels = len(samples) * size[0] * size[1]
    assert metric.curves['all_hist'].sum() == all_pixels


def test_best_f1_is_the_maximum_of_the_curve():
    samples = random_mask_samples(5, seed=1)
    metric = PixelLocalizationMetric(eval_size=32)
    metric.process(None, samples)
    out = metric.evaluate(5)
    c = metric.curves
    # brute force: F1 at every tau from the raw counts
    pos, neg = c['pos_hist'], c['neg_hist']
    best, best_tau = -1, None
    for k, tau in enumerate(c['thresholds']):
        tp, fp = pos[k:].sum(), neg[k:].sum()
        p = tp / (tp + fp) if tp + fp else 0.
        r = tp / pos.sum()
        f1 = 2 * p * r / (p + r) if p + r else 0.
        if f1 > best:
            best, best_tau = f1, tau
    assert out['pxap/best_f1'] == pytest.approx(best * 100, rel=1e-12)
    assert out['pxap/best_f1_tau'] == best_tau


def test_nearest_resize_of_merged_mask_equals_per_instance_resize():
    """The reference resizes every instance PNG and the ignore PNG (float32,
    nearest) and merges after; resizing the merged uint8 map is the same."""
    rng = np.random.default_rng(2)
    for _ in range(20):
        h, w = (int(v) for v in rng.integers(5, 200, 2))
        inst = [rng.random((h, w)) < 0.2 for _ in range(3)]
        ignore = rng.random((h, w)) < 0.3
        objects = np.logical_or.reduce(inst)
        merged = objects.astype(np.uint8)
        merged[ignore & ~objects] = 255
        size = (224, 224)
        ri = [cv2.resize(m.astype(np.float32), size,
                         interpolation=cv2.INTER_NEAREST) > 0.5 for m in inst]
        rig = cv2.resize(ignore.astype(np.float32), size,
                         interpolation=cv2.INTER_NEAREST) > 0.5
        obj = np.logical_or.reduce(ri)
        reference = obj.astype(np.uint8) + 255 * (rig & ~obj).astype(np.uint8)
        np.testing.assert_array_equal(resize_mask_nearest(merged, size),
                                      reference)


@pytest.mark.parametrize('mask, match', [
    (np.full((6, 6), 7, np.uint8), '0 \\(background\\), 1'),
    (np.zeros((5, 6), np.uint8), 'ori_shape'),
    (np.zeros((2, 6, 6), np.uint8), '2-D'),
    (np.full((6, 6), 0.5), 'integer'),
])
def test_bad_masks_raise(mask, match):
    metric = PixelLocalizationMetric(eval_size=8)
    with pytest.raises(ValueError, match=match):
        metric.process(None, [dict(cam=np.random.rand(3, 3), gt_mask=mask,
                                   ori_shape=(6, 6))])


def test_constant_map_is_scored_zero_everywhere():
    mask = np.zeros((4, 4), np.uint8)
    mask[:2] = 1
    metric = PixelLocalizationMetric(eval_size=4)
    metric.process(None, [dict(cam=np.ones((4, 4)), gt_mask=mask)])
    out = metric.evaluate(1)
    # every pixel scores 0: one operating point (tau = 0), P = 8 / 16
    assert out['pxap/PxAP'] == 50.0
    assert metric.curves['num_degenerate'][0] == 1


def test_too_fine_a_threshold_step_is_an_error_at_construction():
    # 1 / 65535.5 gives 65,536 thresholds: the [1, 2) bin would be index
    # 65536, whose high byte (256) no longer fits the uint8 plane
    assert len(cam_threshold_list(1 / 65535.5)) == 65536
    with pytest.raises(ValueError, match='cam_curve_interval'):
        PixelLocalizationMetric(eval_size=8, cam_curve_interval=1 / 65535.5)
    with pytest.raises(ValueError, match='65536 score thresholds'):
        NormalizedScoreBinner(cam_threshold_list(1 / 65535.5))
    # 65,535 thresholds are still counted (scores checked against
    # np.histogram in test_protocol_conventions)
    PixelLocalizationMetric(eval_size=8, cam_curve_interval=1 / 65534.5)


def test_too_large_an_evaluation_size_is_an_error():
    # float32 cv2.calcHist counts are exact up to 2**24 = 4096 * 4096
    PixelLocalizationMetric(eval_size=4096)
    with pytest.raises(ValueError, match='eval_size \\(4097, 4096\\)'):
        PixelLocalizationMetric(eval_size=(4097, 4096))
    # and for the binner used directly (checked before any pixel is read)
    binner = NormalizedScoreBinner(cam_threshold_list())
    scores = np.broadcast_to(0.5, (4097, 4096))
    groups = np.broadcast_to(np.uint8(0), (4097, 4096))
    with pytest.raises(ValueError, match='16781312 pixels'):
        binner.grouped_histograms(scores, groups, 1)


def test_pxap_of_a_binary_map_is_its_one_point_and_the_base_rate():
    """A map with two values has one point of the PR curve between the
    empty and the full prediction: at every tau in (0, 1] it predicts its
    high region (precision p, recall r), at tau = 0 everything (precision
    g = the object's share of the pixels, recall 1). The protocol's sum
    then gives PxAP = p * r + g * (1 - r): a near-binary map gets no credit
    for ranking inside either region."""
    h, w = 40, 50
    mask = np.zeros((h, w), np.uint8)
    mask[10:30, 10:30] = 1                       # 400 object pixels
    high = np.zeros((h, w), np.float32)
    high[15:35, 15:40] = 1                       # 500 predicted pixels
    tp = 15 * 15                                 # rows 15-29, cols 15-29
    p, r, g = tp / 500, tp / 400, 400 / (h * w)
    metric = PixelLocalizationMetric(eval_size=(h, w))
    metric.process(None, [dict(cam=torch.from_numpy(high), gt_mask=mask,
                               ori_shape=(h, w))])
    out = metric.evaluate(1)
    assert out['pxap/PxAP'] == pytest.approx(100 * (p * r + g * (1 - r)))
    # The same region with its object pixels ranked first scores the
    # area of the two-step curve instead: precision 1 up to recall r.
    ranked = high.copy()
    ranked[15:30, 15:30] = 2                     # min-max: 1, the rest 0.5
    metric = PixelLocalizationMetric(eval_size=(h, w))
    metric.process(None, [dict(cam=torch.from_numpy(ranked), gt_mask=mask,
                               ori_shape=(h, w))])
    assert metric.evaluate(1)['pxap/PxAP'] == pytest.approx(
        100 * (1.0 * r + g * (1 - r)))
