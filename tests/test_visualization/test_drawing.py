"""Pixel drawing: TP/FP/FN labels, tinting, box outlines, the thresholded
region of the box style."""
import numpy as np
import pytest

from fcam_mm.evaluation.functional.wsol_protocol import (
    largest_box_at_threshold, normalize_scoremap)
from fcam_mm.visualization.drawing import (FN, FP, IGNORED, TN, TP,
                                           box_foreground, confusion_labels,
                                           draw_boxes, draw_caption,
                                           paint_labels, pixel_foreground)


def test_confusion_labels_count_hand_made_pair():
    # 4x5 GT: object in the left 2 columns, ignore in the last column.
    gt = np.zeros((4, 5), np.uint8)
    gt[:, :2] = 1
    gt[:, 4] = 255
    pred = np.zeros((4, 5), bool)
    pred[:2, :] = True  # top two rows predicted
    labels = confusion_labels(pred, gt)
    counts = np.bincount(labels.ravel(), minlength=5)
    # TP: rows 0-1 x cols 0-1; FN: rows 2-3 x cols 0-1;
    # FP: rows 0-1 x cols 2-3; TN: rows 2-3 x cols 2-3; ignore: col 4
    assert counts[TP] == 4 and counts[FN] == 4
    assert counts[FP] == 4 and counts[TN] == 4
    assert counts[IGNORED] == 4
    assert labels[0, 0] == TP and labels[3, 0] == FN
    assert labels[0, 3] == FP and labels[3, 3] == TN
    assert (labels[:, 4] == IGNORED).all()


def test_confusion_labels_reject_bad_input():
    with pytest.raises(ValueError, match='predicted foreground is'):
        confusion_labels(np.ones((3, 3), bool), np.zeros((4, 4), np.uint8))
    with pytest.raises(ValueError, match='255'):
        confusion_labels(np.ones((2, 2), bool), np.full((2, 2), 7, np.uint8))


def test_paint_labels_blends_only_listed_labels():
    image = np.full((2, 2, 3), 100, np.uint8)
    labels = np.array([[1, 2], [0, 1]], np.uint8)
    out = paint_labels(image, labels, {1: (255, 0, 0), 2: (0, 0, 255)},
                       alpha=0.5)
    np.testing.assert_array_equal(out[0, 0], [177, 50, 50])
    np.testing.assert_array_equal(out[1, 1], [177, 50, 50])
    np.testing.assert_array_equal(out[0, 1], [50, 50, 177])
    np.testing.assert_array_equal(out[1, 0], [100, 100, 100])


def test_draw_boxes_covers_exactly_the_inclusive_border():
    image = np.zeros((20, 30, 3), np.uint8)
    out = draw_boxes(image.copy(), [[3, 4, 12, 15]], (0, 255, 0), 2)
    drawn = (out == [0, 255, 0]).all(axis=2)
    expected = np.zeros((20, 30), bool)
    expected[4:16, 3:13] = True
    expected[6:14, 5:11] = False  # 2-pixel outline grows inwards
    np.testing.assert_array_equal(drawn, expected)


def test_box_foreground_is_the_region_of_the_protocol_box():
    rng = np.random.default_rng(0)
    raw = np.zeros((40, 50))
    raw[5:15, 8:20] = 1 + rng.random((10, 12))  # normalised to >= 0.5
    raw[25:30, 30:45] = 0.5  # normalised to about 0.25
    norm = normalize_scoremap(raw)[0]
    blob1 = np.zeros((40, 50), bool)
    blob1[5:15, 8:20] = True
    blob2 = np.zeros((40, 50), bool)
    blob2[25:30, 30:45] = True
    np.testing.assert_array_equal(box_foreground(norm, 0.0), blob1 | blob2)
    np.testing.assert_array_equal(box_foreground(norm, 0.45), blob1)
    # the box of the largest blob, one pixel larger right / bottom
    np.testing.assert_array_equal(largest_box_at_threshold(norm, 0.45),
                                  [8, 5, 20, 15])
    # at tau = 0 both blobs are foreground; the box is the larger one's
    np.testing.assert_array_equal(largest_box_at_threshold(norm, 0.0),
                                  [8, 5, 20, 15])


def test_pixel_foreground_is_inclusive():
    norm = np.array([[0.0, 0.5, 0.8]])
    np.testing.assert_array_equal(pixel_foreground(norm, 0.5),
                                  [[False, True, True]])


def test_caption_shrinks_to_fit_and_keeps_size():
    image = np.full((40, 60, 3), 200, np.uint8)
    out = draw_caption(image.copy(), [('a very long caption text', (255,
                                                                     0, 0))])
    assert out.shape == image.shape
    # the band darkened the top-left, never beyond the image width
    assert (out[0, 0] < 200).all()
    assert (out[-1] == 200).all()  # bottom row untouched
