"""The box metric's activation histograms split by the GT boxes (what
Fig. 6 needs for box datasets), against a brute-force count."""
import numpy as np

from fcam_mm.evaluation.metrics import BoxLocalizationMetric


def test_in_box_histograms_match_brute_force():
    rng = np.random.default_rng(1)
    size = 24
    samples, expected_in, expected_all = [], np.zeros(256, int), np.zeros(
        256, int)
    boxes_per_image = [
        [[2, 3, 10, 12]],
        [[0, 0, 5, 5], [3, 3, 8, 9]],  # overlapping: union counted once
        [[20, 20, 23, 23]],
    ]
    for boxes in boxes_per_image:
        cam = rng.random((size, size))
        samples.append(dict(cam=cam, gt_bboxes=np.array(boxes, np.float32),
                            ori_shape=(size, size)))
        # the protocol: min-max normalise, uint8 by truncation
        q = ((cam - cam.min()) / (cam - cam.min()).max() * 255).astype(
            np.uint8)
        inside = np.zeros((size, size), bool)
        for x0, y0, x1, y1 in boxes:
            inside[y0:y1 + 1, x0:x1 + 1] = True
        expected_in += np.bincount(q[inside], minlength=256)
        expected_all += np.bincount(q.ravel(), minlength=256)
    metric = BoxLocalizationMetric(eval_size=size, topk=())
    metric.process(None, samples)
    metric.evaluate(len(samples))
    curves = metric.curves
    np.testing.assert_array_equal(curves['quantized_hist'], expected_all)
    np.testing.assert_array_equal(curves['quantized_hist_in_box'],
                                  expected_in)
    np.testing.assert_array_equal(curves['quantized_hist_out_box'],
                                  expected_all - expected_in)
    # by hand: 9 x 10; 6 x 6 + 6 x 7 - 3 x 3 overlap; 4 x 4
    union_pixels = 90 + (36 + 42 - 9) + 16
    assert curves['quantized_hist_in_box'].sum() == union_pixels


def test_gt_boxes_are_rescaled_before_the_split():
    # a 48x48 image evaluated at 24x24: box (0..23) covers the left half of
    # the original, rescaled by truncation to 0..11 (int(23 * 0.5) = 11)
    cam = np.arange(48 * 48, dtype=float).reshape(48, 48)
    metric = BoxLocalizationMetric(eval_size=24, topk=())
    metric.process(None, [dict(cam=cam, ori_shape=(48, 48),
                               gt_bboxes=np.array([[0, 0, 23, 47]]))])
    metric.evaluate(1)
    assert metric.curves['quantized_hist_in_box'].sum() == 12 * 24
