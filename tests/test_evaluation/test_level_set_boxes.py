"""The all-thresholds box algorithm equals one cv2.findContours per
threshold, and the OpenCV facts it rests on hold for the installed OpenCV.
"""
import cv2
import numpy as np
import pytest

from fcam_mm.evaluation.functional import (NUM_LEVELS, boxes_at_all_levels,
                                           contour_boxes)
from fcam_mm.evaluation.metrics.box_localization import \
    boxes_by_contours_per_level


def brute_force(q):
    largest, every = [], []
    for t in range(NUM_LEVELS):
        boxes, best = contour_boxes((q > t).view(np.uint8))
        largest.append(boxes[best])
        every.append(boxes)
    return np.array(largest), every


def assert_same_boxes(q, **kwargs):
    largest, boxes, levels, _ = boxes_at_all_levels(q, **kwargs)
    ref_largest, ref_every = brute_force(q)
    np.testing.assert_array_equal(largest, ref_largest)
    assert np.all(np.diff(levels) >= 0)
    for t in range(NUM_LEVELS):
        mine = boxes[levels == t]
        # same set of boxes (a contour list may repeat a box)
        assert set(map(tuple, mine.tolist())) == \
            set(map(tuple, ref_every[t].tolist())), t


def quantized(cam):
    cam = cam - cam.min()
    cam = cam / cam.max() if cam.max() > 0 else cam
    return (cam * 255).astype(np.uint8)


def families(rng):
    """Maps that exercise plateaus, holes, ties, borders and noise."""
    for _ in range(40):
        h, w = (int(v) for v in rng.integers(1, 24, 2))
        yield rng.integers(0, 256, (h, w)).astype(np.uint8)  # noise
        yield (rng.integers(0, 4, (h, w)) * 85).astype(np.uint8)  # plateaus
        yield quantized(cv2.resize(rng.random((3, 3)), (w, h),
                                   interpolation=cv2.INTER_CUBIC))
    # two identical blobs: tie for the largest contour at every level
    twin = np.zeros((12, 20), np.uint8)
    twin[3:7, 2:6] = 200
    twin[3:7, 12:16] = 200
    yield twin
    # nested rings: holes with islands inside
    rings = np.zeros((15, 15), np.uint8)
    for i, v in enumerate((60, 0, 120, 0, 250)):
        rings[i:15 - i, i:15 - i] = v
    yield rings
    # checkerboard: diagonal 8-connectivity everywhere
    yield ((np.indices((9, 10)).sum(0) % 2) * 255).astype(np.uint8)
    # single pixel, full image, one row, one column
    one = np.zeros((5, 5), np.uint8)
    one[2, 3] = 255
    yield one
    yield np.full((4, 6), 255, np.uint8)
    yield rng.integers(0, 256, (1, 17)).astype(np.uint8)
    yield rng.integers(0, 256, (13, 1)).astype(np.uint8)


def test_small_maps_of_every_family():
    rng = np.random.default_rng(0)
    for q in families(rng):
        assert_same_boxes(q)
        # with the background tree instead of tracing the hole levels
        assert_same_boxes(q, max_traced_hole_levels=0)


@pytest.mark.parametrize('low_res', [7, 28])
def test_cam_like_maps_at_224(low_res):
    rng = np.random.default_rng(low_res)
    cam = cv2.resize(rng.random((low_res, low_res)), (224, 224),
                     interpolation=cv2.INTER_CUBIC)
    assert_same_boxes(quantized(cam))


def test_all_zero_map_has_no_contour():
    largest, boxes, levels, traced = boxes_at_all_levels(
        np.zeros((6, 7), np.uint8))
    assert (largest == 0).all() and (boxes == 0).all()
    np.testing.assert_array_equal(levels, np.arange(NUM_LEVELS))
    assert traced == 0


def test_contours_per_level_alternative_is_the_same():
    rng = np.random.default_rng(3)
    q = quantized(cv2.resize(rng.random((5, 5)), (40, 30),
                             interpolation=cv2.INTER_CUBIC))
    a = boxes_at_all_levels(q)
    b = boxes_by_contours_per_level(q)
    np.testing.assert_array_equal(a[0], b[0])
    for t in range(NUM_LEVELS):
        assert set(map(tuple, a[1][a[2] == t].tolist())) == \
            set(map(tuple, b[1][b[2] == t].tolist()))


def test_opencv_contour_facts():
    """Outer borders <-> 8-connected components (same bounding box), hole
    borders <-> 4-connected bounded background components (box grown by
    one), contourArea of an outer border = bit-quad area of the filled
    component, a hole never beats its parent and comes after it."""
    rng = np.random.default_rng(1)
    for _ in range(300):
        h, w = (int(v) for v in rng.integers(1, 14, 2))
        m = (rng.random((h, w)) < rng.uniform(0.2, 0.9)).astype(np.uint8)
        contours, hierarchy = cv2.findContours(m, cv2.RETR_TREE,
                                               cv2.CHAIN_APPROX_SIMPLE)
        n_fg, fg_labels = cv2.connectedComponents(m, connectivity=8)
        inv = np.pad(1 - m, 1, constant_values=1)
        n_bg, bg_labels = cv2.connectedComponents(inv, connectivity=4)
        frame = bg_labels[0, 0]
        bg_labels = bg_labels[1:-1, 1:-1]
        expected = set()
        for lab in range(1, n_fg):
            ys, xs = np.nonzero(fg_labels == lab)
            expected.add((xs.min(), ys.min(), xs.max(), ys.max()))
        n_holes = 0
        for lab in range(1, n_bg):
            ys, xs = np.nonzero(bg_labels == lab)
            if lab == frame or len(ys) == 0:
                continue
            n_holes += 1
            expected.add((xs.min() - 1, ys.min() - 1, xs.max() + 1,
                          ys.max() + 1))
        assert len(contours) == n_fg - 1 + n_holes
        found = set()
        for c in contours:
            x, y, cw, ch = cv2.boundingRect(c)
            found.add((x, y, x + cw - 1, y + ch - 1))
        assert found == expected
        if not contours:
            continue
        hierarchy = hierarchy[0]
        for i, c in enumerate(contours):
            parent = hierarchy[i][3]
            depth, j = 0, i
            while hierarchy[j][3] != -1:
                j, depth = hierarchy[j][3], depth + 1
            if depth % 2:  # a hole
                assert parent < i
                assert cv2.contourArea(c) <= cv2.contourArea(contours[parent])
                continue
            comp = np.zeros_like(m)
            cv2.drawContours(comp, contours, i, 1, -1)
            lab = fg_labels[c[0, 0, 1], c[0, 0, 0]]
            solo = (fg_labels == lab).astype(np.uint8)
            outside = cv2.connectedComponents(
                np.pad(1 - solo, 1, constant_values=1), connectivity=4)[1]
            filled = (outside[1:-1, 1:-1] != outside[0, 0]).astype(int)
            p = np.pad(filled, 1)
            cells = p[:-1, :-1] + p[1:, :-1] + p[:-1, 1:] + p[1:, 1:]
            area = (cells == 4).sum() + 0.5 * (cells == 3).sum()
            assert cv2.contourArea(c) == area
