"""MapCoverageMetric: the foreground a map selects at one threshold, checked
on maps whose answer is counted by hand."""
import numpy as np
import pytest

from fcam_mm.evaluation.metrics import MapCoverageMetric


def sample(score, mask):
    return dict(cam=np.asarray(score, np.float64), gt_mask=np.asarray(
        mask, np.uint8), ori_shape=np.asarray(mask).shape)


def evaluate(metric, samples):
    metric.process(None, samples)
    return metric.evaluate(len(samples))


def test_counts_by_hand_with_ignore_pixels():
    # 4x4 frame, no resizing: eval_size equals the map size
    score = np.zeros((4, 4))
    score[:2, :2] = 1.0          # predicted foreground: the top-left 2x2
    score[3, 3] = 0.3            # a soft pixel, below the threshold
    mask = np.zeros((4, 4), np.uint8)
    mask[:2, :3] = 1             # object: top-left 2x3 (6 pixels)
    mask[3, 0] = 255             # one ignore pixel, dropped everywhere
    metric = MapCoverageMetric(eval_size=4, prefix='c')
    out = evaluate(metric, [sample(score, mask)])
    # kept 15, F = 4 (all on the object), O = 6, F∩O = 4, F∪O = 6
    assert out['c/fg_fraction'] == pytest.approx(100 * 4 / 15)
    assert out['c/gt_fraction'] == pytest.approx(100 * 6 / 15)
    assert out['c/recall'] == pytest.approx(100 * 4 / 6)
    assert out['c/precision'] == pytest.approx(100.0)
    assert out['c/mIoU'] == pytest.approx(100 * 4 / 6)
    assert out['c/soft_fraction'] == pytest.approx(100 * 1 / 15)


def test_pooled_fractions_and_mean_iou_over_images():
    full = np.ones((2, 2))
    empty_obj = np.zeros((2, 2), np.uint8)
    half = np.zeros((2, 2))
    half[0] = 1.0
    obj = np.zeros((2, 2), np.uint8)
    obj[:, 0] = 1
    metric = MapCoverageMetric(eval_size=2, normalize=False)
    # image 1: all predicted, no object (IoU 0); image 2: top row vs left
    # column: F∩O = 1, F∪O = 3
    out = evaluate(metric, [sample(full, empty_obj), sample(half, obj)])
    assert out['coverage/fg_fraction'] == pytest.approx(100 * 6 / 8)
    assert out['coverage/recall'] == pytest.approx(100 * 1 / 2)
    assert out['coverage/precision'] == pytest.approx(100 * 1 / 6)
    assert out['coverage/mIoU'] == pytest.approx(100 * (0 + 1 / 3) / 2)


def test_normalize_false_keeps_the_decoders_own_decision():
    score = np.full((2, 2), 0.4)
    score[0, 0] = 0.6
    mask = np.ones((2, 2), np.uint8)
    raw = evaluate(MapCoverageMetric(eval_size=2, normalize=False),
                   [sample(score, mask)])
    normalised = evaluate(MapCoverageMetric(eval_size=2),
                          [sample(score, mask)])
    assert raw['coverage/fg_fraction'] == pytest.approx(25.0)
    # min-max normalisation maps 0.4 -> 0 and 0.6 -> 1: same single pixel
    assert normalised['coverage/fg_fraction'] == pytest.approx(25.0)
    assert raw['coverage/soft_fraction'] == pytest.approx(100.0)
    assert normalised['coverage/soft_fraction'] == pytest.approx(0.0)


@pytest.mark.parametrize('kwargs', [dict(threshold=0.0), dict(threshold=1.5),
                                    dict(soft_low=0.5)])
def test_bad_arguments_are_named(kwargs):
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        MapCoverageMetric(**kwargs)
