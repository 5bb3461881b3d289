"""Each convention of the protocol pinned by a small hand-made case whose
answer is worked out here (DESIGN.md section 4, docs/metrics.md)."""
import numpy as np
import pytest

from fcam_mm.evaluation import (BoxLocalizationMetric,
                                PixelLocalizationMetric)
from fcam_mm.evaluation.functional import (cam_threshold_list, contour_boxes,
                                           multiple_iou, normalize_scoremap,
                                           prepare_scoremap,
                                           quantize_scoremap, rescale_boxes,
                                           score_histogram, threshold_levels)
from fcam_mm.evaluation.functional.wsol_protocol import NormalizedScoreBinner

TAUS = np.arange(0, 1, 0.001)


def box_metrics(cam, gt_boxes, **kwargs):
    """Evaluate one map given at the evaluation size (the bicubic resize is
    then the identity) against GT boxes given in that frame."""
    cam = np.asarray(cam, np.float64)
    metric = BoxLocalizationMetric(eval_size=cam.shape, topk=(), **kwargs)
    metric.process(None, [dict(cam=cam, ori_shape=cam.shape,
                               gt_bboxes=np.asarray(gt_boxes, np.float32))])
    return metric.evaluate(1), metric


def test_thresholds_and_levels():
    taus = cam_threshold_list()
    assert len(taus) == 1000 and taus[0] == 0 and taus[-1] < 1
    np.testing.assert_array_equal(taus, TAUS)
    # foreground is q > int(tau * max(q)): with max 255, tau = 0.5 -> 127
    levels = threshold_levels(taus, 255)
    assert levels[500] == int(0.5 * 255) == 127
    assert levels.max() == int(taus[-1] * 255) == 254
    assert (threshold_levels(taus, 0) == 0).all()


def test_every_threshold_level_is_below_the_maximum():
    """``int(tau * qmax) <= qmax - 1`` for every step: the box metric
    indexes its 255 levels with it unclipped. Steps 1/m and their float
    neighbours are where ``arange(0, 1, step)`` ends closest to 1."""
    steps = [0.001, 0.3, 0.7, 0.999, 1e-5]
    for m in list(range(2, 300)) + [999, 1000, 1001, 4096, 65535]:
        step = 1 / m
        steps += [step, np.nextafter(step, 0), np.nextafter(step, 1)]
    # the last (largest) tau of each step gives its largest level
    last = np.array([cam_threshold_list(step)[-1] for step in steps])
    assert (last < 1).all()
    for qmax in range(1, 256):
        assert threshold_levels(last, qmax).max() == qmax - 1, qmax


def test_resize_is_identity_at_the_evaluation_size():
    cam = np.random.default_rng(0).random((9, 11))
    out, degenerate = prepare_scoremap(cam, (9, 11))
    assert not degenerate
    np.testing.assert_array_equal(out, normalize_scoremap(cam)[0])


def test_normalisation_and_degenerate_maps():
    cam = np.array([[2., 4.], [6., 10.]])
    out, degenerate = normalize_scoremap(cam)
    np.testing.assert_array_equal(out, [[0, 0.25], [0.5, 1]])
    assert not degenerate
    for bad in (np.full((3, 3), 7.), np.array([[1., np.nan], [0., 2.]])):
        out, degenerate = normalize_scoremap(bad)
        assert degenerate and (out == 0).all()
    # quantisation truncates: 0.999 * 255 = 254.745 -> 254
    np.testing.assert_array_equal(
        quantize_scoremap(np.array([0.999, 1.0, 0.0039])), [254, 255, 0])


def test_single_pixel_box_is_one_pixel_larger():
    cam = np.zeros((5, 5))
    cam[2, 1] = 1  # y = 2, x = 1
    q = quantize_scoremap(cam)
    boxes, best = contour_boxes((q > 0).view(np.uint8))
    # boundingRect (1, 2, 1, 1) -> [x, y, x + w, y + h]
    np.testing.assert_array_equal(boxes[best], [1, 2, 2, 3])
    # against the pixel itself: 1 common pixel, union 4 + 1 - 1 = 4
    assert multiple_iou([[1, 2, 2, 3]], [[1, 2, 1, 2]])[0, 0] == 0.25
    out, _ = box_metrics(cam, [[1, 2, 1, 2]])
    assert out['loc/MaxBoxAcc'] == 0 and out['loc/MaxBoxAccV2@30'] == 0
    out, _ = box_metrics(cam, [[1, 2, 2, 3]])
    assert out['loc/MaxBoxAcc'] == 100 and out['loc/MaxBoxAccV2@70'] == 100


def test_ring_with_a_hole_counts_the_hole_contour():
    cam = np.ones((7, 7))
    cam[3, 3] = 0  # a one-pixel hole in the middle
    gt = [[2, 2, 4, 4]]
    # outer border: pixels 0..6 -> [0, 0, min(7, 6), min(7, 6)]
    # hole border: hole 3..3 grown by one -> 2..4 -> [2, 2, 5, 5]
    q = quantize_scoremap(normalize_scoremap(cam)[0])
    boxes, best = contour_boxes((q > 0).view(np.uint8))
    assert sorted(boxes.tolist()) == [[0, 0, 6, 6], [2, 2, 5, 5]]
    np.testing.assert_array_equal(boxes[best], [0, 0, 6, 6])
    # IoU(hole box, gt) = 9 / (16 + 9 - 9); IoU(outer, gt) = 9 / 49
    assert multiple_iou([[2, 2, 5, 5]], gt)[0, 0] == 9 / 16
    out, _ = box_metrics(cam, gt)
    assert out['loc/MaxBoxAcc'] == 0  # the largest contour is the outer one
    assert out['loc/MaxBoxAccV2@30'] == 100
    assert out['loc/MaxBoxAccV2@50'] == 100  # 0.5625 >= 0.5
    assert out['loc/MaxBoxAccV2@70'] == 0
    assert out['loc/MaxBoxAccV2'] == pytest.approx(200 / 3, abs=0)


def test_two_blobs_largest_and_all_contours():
    cam = np.zeros((8, 8))
    cam[0:3, 0:3] = 0.6  # blob A, 3x3, weaker
    cam[5:7, 5:7] = 1.0  # blob B, 2x2
    gt_b = [[5, 5, 7, 7]]  # exactly B's protocol box
    out, metric = box_metrics(cam, gt_b)
    # below A's level the largest contour is A: wrong box for B's GT;
    # A is foreground while int(tau * 255) < q_A
    q_a = int(quantize_scoremap(normalize_scoremap(cam)[0])[0, 0])
    assert q_a == 153
    first_b_only = int(np.argmax((TAUS * 255).astype(int) >= q_a))
    expected = np.where(np.arange(1000) >= first_b_only, 100., 0.)
    np.testing.assert_array_equal(metric.curves['accuracy'], expected)
    assert out['loc/MaxBoxAcc'] == 100
    assert out['loc/best_tau'] == TAUS[first_b_only]
    # every contour: B's box is always there
    assert out['loc/MaxBoxAccV2@70'] == 100
    assert out['loc/best_tau_V2@70'] == 0.0


def test_box_touching_the_border_is_clipped():
    cam = np.zeros((8, 8))
    cam[6:8, 5:8] = 1  # reaches the right and bottom borders
    q = quantize_scoremap(cam)
    boxes, best = contour_boxes((q > 0).view(np.uint8))
    # boundingRect (5, 6, 3, 2): x + w = 8 and y + h = 8 clipped to 7
    np.testing.assert_array_equal(boxes[best], [5, 6, 7, 7])
    cam = np.zeros((8, 8))
    cam[2:4, 3:5] = 1  # inside: one pixel larger on both sides
    q = quantize_scoremap(cam)
    boxes, best = contour_boxes((q > 0).view(np.uint8))
    np.testing.assert_array_equal(boxes[best], [3, 2, 5, 4])


@pytest.mark.parametrize('value', [0.0, 3.5, np.nan])
def test_constant_or_nan_map_gives_the_empty_box(value):
    cam = np.full((6, 6), value)
    # no contour at any threshold: the box [0, 0, 0, 0] (one pixel)
    out, metric = box_metrics(cam, [[0, 0, 0, 0]])
    assert out['loc/MaxBoxAcc'] == 100  # IoU([0,0,0,0], [0,0,0,0]) = 1
    assert (metric.curves['accuracy'] == 100).all()
    assert metric.curves['num_degenerate'][0] == 1
    out, _ = box_metrics(cam, [[0, 0, 3, 3]])  # IoU 1 / 16
    assert out['loc/MaxBoxAcc'] == 0 and out['loc/MaxBoxAccV2@30'] == 0


def test_several_gt_boxes_take_the_best_match():
    cam = np.zeros((10, 10))
    cam[6:9, 1:4] = 1  # protocol box [1, 6, 4, 9]
    out, _ = box_metrics(cam, [[5, 0, 9, 3]])
    assert out['loc/MaxBoxAcc'] == 0
    out, _ = box_metrics(cam, [[5, 0, 9, 3], [1, 6, 4, 9]])
    assert out['loc/MaxBoxAcc'] == 100


def test_gt_boxes_are_rescaled_by_truncation():
    # W = 300 -> 224: 299 * 224 / 300 = 223.25 -> 223; 150 -> 112.0
    out = rescale_boxes([[150, 10, 299, 199]], (200, 300), (224, 224))
    np.testing.assert_array_equal(out, [[112, 11, 223, 222]])
    # y: 10 * 224 / 200 = 11.2 -> 11; 199 * 224 / 200 = 222.88 -> 222


def test_top_k_localization_needs_the_class():
    cam = np.zeros((6, 6))
    cam[1:3, 1:3] = 1
    samples = [
        dict(cam=cam, ori_shape=(6, 6), gt_bboxes=[[1, 1, 3, 3]],
             gt_label=[2], pred_score=np.array([0.1, 0.5, 0.4])),
        dict(cam=cam, ori_shape=(6, 6), gt_bboxes=[[1, 1, 3, 3]],
             gt_label=[1], pred_score=np.array([0.1, 0.5, 0.4])),
    ]
    metric = BoxLocalizationMetric(eval_size=6, topk=(1, 2))
    metric.process(None, samples)
    out = metric.evaluate(2)
    assert out['loc/MaxBoxAcc'] == 100 and out['loc/gt_known'] == 100
    assert out['loc/top1_loc'] == 50  # only the second is top-1
    assert out['loc/top2_loc'] == 100


def test_score_bins_by_hand():
    # step 0.25: bins [0, .25), [.25, .5), [.5, .75), [.75, 1), [1, 2), [2, 3]
    binner = NormalizedScoreBinner(cam_threshold_list(0.25))
    scores = np.array([0., 0.25, np.nextafter(0.25, 0), 0.5, 0.74, 0.75,
                       np.nextafter(1, 0), 1.])
    np.testing.assert_array_equal(binner(scores), [0, 1, 0, 2, 2, 3, 3, 4])
    np.testing.assert_array_equal(
        score_histogram(scores, binner.edges), [2, 1, 2, 2, 1, 0])


@pytest.mark.parametrize('step', [0.001, 0.01, 0.0007, 0.3, 1 / 3, 1e-4,
                                  1 / 65534.5])
def test_score_binner_matches_np_histogram_on_edges(step):
    """The fast binner against the reference ``np.histogram`` (through
    ``score_histogram``) on every edge, its neighbours and random scores in
    [0, 1]; the largest step count the histograms take is included."""
    taus = cam_threshold_list(step)
    binner = NormalizedScoreBinner(taus)
    edges = binner.edges
    np.testing.assert_array_equal(edges, np.append(taus, [1., 2., 3.]))
    values = np.concatenate([
        taus, np.nextafter(taus, -1)[1:], np.nextafter(taus, 2),
        [0., 1., np.nextafter(1, 0), 0.5, 0.25],
        np.random.default_rng(0).random(10000)
    ])
    expected = score_histogram(values, edges)
    np.testing.assert_array_equal(
        expected, np.histogram(values, bins=edges)[0])
    np.testing.assert_array_equal(
        np.bincount(binner(values), minlength=binner.n_bins), expected)
    # per group, through the uint8 (group, high byte, low byte) histogram
    groups = np.arange(len(values)) % 3
    hists = binner.grouped_histograms(values[None], groups[None], 3)
    for g in range(3):
        np.testing.assert_array_equal(
            hists[g], score_histogram(values[groups == g], edges))


def test_pxap_by_hand_with_an_ignore_region():
    # four pixels, scores 0, 0.5, 1, 0.25; mask object, ignore, object, bg
    cam = np.array([[0., 0.5, 1.0, 0.25]])
    mask = np.array([[1, 255, 1, 0]], np.uint8)
    metric = PixelLocalizationMetric(eval_size=(1, 4))
    metric.process(None, [dict(cam=cam, gt_mask=mask, ori_shape=(1, 4))])
    out = metric.evaluate(1)
    # s >= 1: tp 1, fp 0 -> P 1, R 0.5 ; s >= 0.25: tp 1, fp 1 (R unchanged)
    # s >= 0: tp 2, fp 1 -> P 2/3, R 1. AP = 1 * 0.5 + 2/3 * 0.5
    assert out['pxap/PxAP'] == pytest.approx((0.5 + 1 / 3) * 100, abs=1e-12)
    # best F1: at tau = 0, 2 * (2/3) * 1 / (2/3 + 1) = 0.8
    assert out['pxap/best_f1'] == pytest.approx(80.0, abs=1e-12)
    assert out['pxap/best_f1_tau'] == 0.0
    # counted as background, the 0.5 pixel would lower the AP to 75
    metric.process(None, [dict(cam=cam, gt_mask=np.array([[1, 0, 1, 0]],
                                                         np.uint8))])
    assert metric.evaluate(1)['pxap/PxAP'] == pytest.approx(75.0, abs=1e-12)


def test_split_without_object_pixel_is_an_error():
    metric = PixelLocalizationMetric(eval_size=4)
    metric.process(None, [dict(cam=np.random.rand(4, 4),
                               gt_mask=np.array([[0, 255, 0, 0]] * 4,
                                                np.uint8))])
    with pytest.raises(RuntimeError, match='no object pixel'):
        metric.evaluate(1)
