"""The all-thresholds box algorithm equals one cv2.findContours per
threshold, its building blocks do what they claim (checked against brute
force), and the OpenCV facts it rests on hold for the installed OpenCV.
"""
import cv2
import numpy as np
import pytest

from fcam_mm.evaluation.functional import (NUM_LEVELS, boxes_at_all_levels,
                                           contour_boxes)
from fcam_mm.evaluation.functional import level_set_boxes as lsb
from fcam_mm.evaluation.metrics.box_localization import \
    boxes_by_contours_per_level


def brute_force(q):
    largest, every = [], []
    for t in range(NUM_LEVELS):
        boxes, best = contour_boxes((q > t).view(np.uint8))
        largest.append(boxes[best])
        every.append(boxes)
    return np.array(largest), every


def assert_same_boxes(q):
    largest, boxes, levels, _ = boxes_at_all_levels(q)
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
        # few values, large flat areas touching each other and the border
        yield rng.choice(np.array([0, 1, 2, 254, 255], np.uint8),
                         size=(h, w), p=[0.4, 0.1, 0.1, 0.1, 0.3])
    # two identical blobs: tie for the largest contour at every level
    twin = np.zeros((12, 20), np.uint8)
    twin[3:7, 2:6] = 200
    twin[3:7, 12:16] = 200
    yield twin
    # equal areas, different shapes and values (ties at the lower levels)
    shapes = np.zeros((10, 16), np.uint8)
    shapes[1:4, 1:5] = 90  # 3 x 4: area 6
    shapes[5:9, 8:11] = 150  # 4 x 3: area 6
    yield shapes
    # two single pixels (contour area 0): a tie at every level
    dots = np.zeros((5, 9), np.uint8)
    dots[2, 2] = dots[2, 6] = 255
    yield dots
    # nested rings: holes with islands inside, one touching the border
    rings = np.zeros((15, 15), np.uint8)
    for i, v in enumerate((60, 0, 120, 0, 250)):
        rings[i:15 - i, i:15 - i] = v
    yield rings
    yield np.ascontiguousarray(rings[:, 3:])
    # a hole whose box reaches the border rows, a one-pixel hole, a ring of
    # diagonal pixels (8-connected ring, 4-connected hole)
    frame = np.full((6, 7), 200, np.uint8)
    frame[1:5, 1:6] = 10
    frame[2, 3] = 230
    yield frame
    diamond = np.zeros((7, 7), np.uint8)
    for y, x in ((1, 3), (2, 2), (2, 4), (3, 1), (3, 5), (4, 2), (4, 4),
                 (5, 3)):
        diamond[y, x] = 180
    yield diamond
    # checkerboard: diagonal 8-connectivity everywhere
    yield ((np.indices((9, 10)).sum(0) % 2) * 255).astype(np.uint8)
    # single pixel, full image, one row, one column, a constant map
    one = np.zeros((5, 5), np.uint8)
    one[2, 3] = 255
    yield one
    corner = np.zeros((4, 4), np.uint8)
    corner[0, 0] = 7
    yield corner
    yield np.full((4, 6), 255, np.uint8)
    yield np.full((3, 3), 9, np.uint8)
    yield np.full((1, 1), 200, np.uint8)
    yield rng.integers(0, 256, (1, 17)).astype(np.uint8)
    yield rng.integers(0, 256, (13, 1)).astype(np.uint8)
    # staircase plateaus and a ramp: many equal values along rows/columns
    yield np.repeat(np.arange(0, 250, 25, dtype=np.uint8), 3)[None, :] \
        .repeat(6, axis=0)
    yield (np.add.outer(np.arange(12), np.arange(12)) * 10).astype(np.uint8)


def test_small_maps_of_every_family():
    rng = np.random.default_rng(0)
    for q in families(rng):
        assert_same_boxes(q)


@pytest.mark.parametrize('low_res', [7, 28])
def test_cam_like_maps_at_224(low_res):
    rng = np.random.default_rng(low_res)
    cam = cv2.resize(rng.random((low_res, low_res)), (224, 224),
                     interpolation=cv2.INTER_CUBIC)
    assert_same_boxes(quantized(cam))


def test_bumps_with_noise_at_224():
    """The benchmark's 'blobs' family: holes at many levels, many small
    regions in the noise floor."""
    rng = np.random.default_rng(5)
    yy, xx = np.mgrid[0:28, 0:28] / 28
    low = 0.05 * rng.random((28, 28))
    for cy, cx, s in ((0.3, 0.4, 0.1), (0.7, 0.6, 0.2)):
        low += np.exp(-((yy - cy)**2 + (xx - cx)**2) / (2 * s**2))
    assert_same_boxes(quantized(cv2.resize(low, (224, 224),
                                           interpolation=cv2.INTER_CUBIC)))


def test_noise_with_hundreds_of_regions():
    """Over 256 foreground regions (float32 cell histograms) and over
    _DENSE_PAIRS background regions (sorted pair table)."""
    q = np.random.default_rng(8).integers(0, 256, (48, 48)).astype(np.uint8)
    assert_same_boxes(q)


def test_more_than_65536_pixels():
    """Above 2^16 pixels the steepest-ascent keys are float64."""
    rng = np.random.default_rng(6)
    cam = cv2.resize(rng.random((9, 9)), (270, 250),
                     interpolation=cv2.INTER_CUBIC)
    q = quantized(cam)
    assert q.size > 65536 and lsb._Grid.get(*q.shape).bits > 16
    assert_same_boxes(q)


def test_tall_map_uses_wide_difference_codes():
    rng = np.random.default_rng(7)
    q = rng.integers(0, 256, (16500, 2)).astype(np.uint8)
    assert lsb._Grid.get(*q.shape).diff_code.dtype == np.int32
    largest, boxes, levels, _ = boxes_at_all_levels(q)
    for t in (0, 100, 254):
        ref_boxes, best = contour_boxes((q > t).view(np.uint8))
        np.testing.assert_array_equal(largest[t], ref_boxes[best])
        assert set(map(tuple, boxes[levels == t].tolist())) == \
            set(map(tuple, ref_boxes.tolist()))


def test_all_zero_map_has_no_contour():
    largest, boxes, levels, traced = boxes_at_all_levels(
        np.zeros((6, 7), np.uint8))
    assert (largest == 0).all() and (boxes == 0).all()
    np.testing.assert_array_equal(levels, np.arange(NUM_LEVELS))
    assert traced == 0


def test_ties_are_handed_to_opencv():
    """Two equal single pixels: no bound can order them, every level with
    both is traced."""
    dots = np.zeros((5, 9), np.uint8)
    dots[2, 2] = dots[2, 6] = 255
    largest, _, _, traced = boxes_at_all_levels(dots)
    assert traced == NUM_LEVELS
    np.testing.assert_array_equal(largest, brute_force(dots)[0])


def test_bad_input_is_an_error():
    with pytest.raises(ValueError, match='uint8'):
        boxes_at_all_levels(np.zeros((4, 4), np.float32))
    with pytest.raises(ValueError, match='2-D'):
        boxes_at_all_levels(np.zeros((2, 4, 4), np.uint8))


def test_contours_per_level_alternative_is_the_same():
    rng = np.random.default_rng(3)
    q = quantized(cv2.resize(rng.random((5, 5)), (40, 30),
                             interpolation=cv2.INTER_CUBIC))
    a = boxes_at_all_levels(q)
    b = boxes_by_contours_per_level(q)
    np.testing.assert_array_equal(a[0], b[0])
    # its 4th output: the distinct foregrounds q > t, t = 0..254 — one per
    # value v >= 1 of q (first reached at t = v - 1), plus the empty one
    # when max(q) < 255
    assert b[3] == len(np.unique(q[q > 0])) + int(q.max() < 255)
    z = np.zeros((3, 4), np.uint8)
    z[1, 1:3] = (7, 255)
    assert boxes_by_contours_per_level(z)[3] == 2
    z[1, 2] = 9
    assert boxes_by_contours_per_level(z)[3] == 3
    for t in range(NUM_LEVELS):
        assert set(map(tuple, a[1][a[2] == t].tolist())) == \
            set(map(tuple, b[1][b[2] == t].tolist()))


# --------------------------------------------------------------------------
# building blocks
# --------------------------------------------------------------------------
def random_small_maps(seed, count=60):
    rng = np.random.default_rng(seed)
    for i in range(count):
        h, w = (int(v) for v in rng.integers(1, 14, 2))
        if i % 3 == 0:
            yield rng.integers(0, 256, (h, w)).astype(np.uint8)
        elif i % 3 == 1:
            yield (rng.integers(0, 3, (h, w)) * 100).astype(np.uint8)
        else:
            yield quantized(cv2.resize(rng.random((3, 3)), (w, h),
                                       interpolation=cv2.INTER_CUBIC))


def test_column_segments_are_unimodal_and_peaks_are_their_maxima():
    for z in random_small_maps(10):
        h, w = z.shape
        grid = lsb._Grid.get(h, w)
        seg, peaks, start = lsb._column_segments(z, grid)
        ids = np.unique(seg)
        np.testing.assert_array_equal(ids, np.arange(len(peaks)))
        key = z.astype(np.int64).reshape(-1) * z.size + np.arange(z.size)
        for s in ids.tolist():
            ys, xs = np.nonzero(seg == s)
            assert len(set(xs.tolist())) == 1  # one column
            assert np.array_equal(ys, np.arange(ys[0], ys[-1] + 1))
            assert start[ys[0], xs[0]] and not start[ys[1:], xs[0]].any()
            col = z[ys, xs[0]].astype(int)
            top = int(np.argmax(col))
            assert (np.diff(col[:top + 1]) >= 0).all()
            assert (np.diff(col[top:]) <= 0).all()
            flat = ys * w + xs
            assert peaks[s] == flat[np.argmax(key[flat])]


@pytest.mark.parametrize('conn', [8, 4])
def test_regions_are_connected_above_every_level(conn):
    """The part of a region above any level is one connected set (the
    property the component trees rest on), and segments stay whole."""
    for z in random_small_maps(11 + conn):
        h, w = z.shape
        grid = lsb._Grid.get(h, w)
        labels, seg_region, peaks, _, values, _, frame_region = \
            lsb._regions(z, conn, conn == 4, grid)
        labels = labels.reshape(h, w)
        seg = lsb._column_segments(z, grid)[0]
        np.testing.assert_array_equal(labels, seg_region[seg])
        border = lsb._Grid.get(h, w).is_border.reshape(h, w)
        for r in np.unique(labels).tolist():
            mask = labels == r
            for s in np.unique(z[mask]).tolist():
                part = (mask & (z >= s)).astype(np.uint8)
                n, comp = cv2.connectedComponents(part, connectivity=conn)
                if r == frame_region:  # connected through the frame
                    assert all(border[comp == c].any() for c in range(1, n))
                else:
                    assert n == 2, (r, s)
            if r != frame_region:
                assert z[mask].max() == values[r]
        if conn == 4:
            assert values[frame_region] == 256


def test_pair_table_dense_and_sorted_agree_with_a_dict():
    rng = np.random.default_rng(12)
    for k in (5, lsb._DENSE_PAIRS, lsb._DENSE_PAIRS + 7):
        a = rng.integers(0, k, 500)
        b = rng.integers(0, k, 500)
        p = rng.integers(0, 256, 500).astype(np.int16)
        ref = {}
        for u, v, w in zip(a.tolist(), b.tolist(), p.tolist()):
            if u != v and w > 0:
                key = (min(u, v), max(u, v))
                ref[key] = max(ref.get(key, 0), w)
        table = lsb._PairTable(k)
        keep = a != b
        table.add(a[keep][:200], b[keep][:200], p[keep][:200])
        table.add(a[keep][200:], b[keep][200:], p[keep][200:])
        lo, hi, best = table.pairs()
        assert dict(zip(zip(lo.tolist(), hi.tolist()), best.tolist())) == ref


def test_kruskal_runs_are_the_components_at_every_level():
    """Leaf order + junctions against union-find at each level, on random
    graphs (disconnected ones included)."""
    rng = np.random.default_rng(13)
    for _ in range(30):
        k = int(rng.integers(1, 15))
        m = int(rng.integers(0, 25))
        a, b = rng.integers(0, k, m), rng.integers(0, k, m)
        keep = a != b
        a, b = a[keep], b[keep]
        p = rng.integers(1, 8, len(a))
        order, junc = lsb._kruskal_order((a, b, p), k)
        assert sorted(order.tolist()) == list(range(k))
        for s in range(8):
            parent = list(range(k))

            def find(i):
                while parent[i] != i:
                    i = parent[i]
                return i

            for u, v, w in zip(a.tolist(), b.tolist(), p.tolist()):
                if w > s:
                    parent[find(u)] = find(v)
            expected = {frozenset(i for i in range(k) if find(i) == r)
                        for r in set(find(i) for i in range(k))}
            runs, cur = [], [order[0]]
            for i in range(1, k):
                if junc[i - 1] > s:
                    cur.append(order[i])
                else:
                    runs.append(frozenset(cur))
                    cur = [order[i]]
            runs.append(frozenset(cur))
            assert set(runs) == expected


def test_frame_heights_are_range_minima():
    rng = np.random.default_rng(14)
    for _ in range(20):
        k = int(rng.integers(1, 12))
        junc = rng.integers(0, 256, k - 1)
        f = int(rng.integers(0, k))
        out = lsb._frame_heights(junc, f, k)
        for p in range(k):
            if p == f:
                assert out[p] == lsb._BIG
            else:
                lo, hi = min(p, f), max(p, f)
                assert out[p] == junc[lo:hi].min()


@pytest.mark.parametrize('ufunc, fill', [(np.minimum, 1000), (np.add, 0)])
def test_leaf_tables_scan_within_each_leaf(ufunc, fill):
    rng = np.random.default_rng(15)
    span = np.array([0, 1, 2, 3, 5, 8, 17, 64, 200, 256])
    tables = lsb._LeafTables(span, 2, fill, np.int64)
    dense = np.full((len(span), 256, 2), fill, np.int64)
    for leaf, n in enumerate(span.tolist()):
        for _ in range(n):
            row, col = int(rng.integers(0, n)), int(rng.integers(0, 2))
            v = int(rng.integers(0, 100))
            idx, ok = tables.index(np.array([leaf]), np.array([row]))
            assert ok[0]
            if ufunc is np.add:
                tables.flat[idx[0] + col] += v
                dense[leaf, row, col] += v
            else:
                tables.flat[idx[0] + col] = min(tables.flat[idx[0] + col], v)
                dense[leaf, row, col] = min(dense[leaf, row, col], v)
    _, ok = tables.index(np.arange(len(span)), span)
    assert not ok.any()  # one past the last row does not exist
    tables.scan(ufunc)
    for leaf, n in enumerate(span.tolist()):
        expected = ufunc.accumulate(dense[leaf, :n], axis=0)
        rows = np.arange(n)
        for col in range(2):
            got = tables.gather(np.full(n, leaf), rows, col)
            np.testing.assert_array_equal(got, expected[:, col])


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
            lab = fg_labels[c[0, 0, 1], c[0, 0, 0]]
            solo = (fg_labels == lab).astype(np.uint8)
            outside = cv2.connectedComponents(
                np.pad(1 - solo, 1, constant_values=1), connectivity=4)[1]
            filled = (outside[1:-1, 1:-1] != outside[0, 0]).astype(int)
            p = np.pad(filled, 1)
            cells = p[:-1, :-1] + p[1:, :-1] + p[:-1, 1:] + p[1:, 1:]
            area = (cells == 4).sum() + 0.5 * (cells == 3).sum()
            assert cv2.contourArea(c) == area


def test_traced_levels_use_the_version_safe_contour_index(monkeypatch):
    """Levels the bounds cannot decide go through ``contour_boxes``, so an
    OpenCV 3.x style ``(image, contours, hierarchy)`` return is read at the
    protocol module's index there too."""
    from fcam_mm.evaluation.functional import wsol_protocol
    dots = np.zeros((5, 9), np.uint8)
    dots[2, 2] = dots[2, 6] = 255
    real = cv2.findContours
    # every level 0..254 has the same foreground: the reference's box of it
    contours = real((dots > 0).view(np.uint8), cv2.RETR_TREE,
                    cv2.CHAIN_APPROX_SIMPLE)[wsol_protocol._CONTOUR_INDEX]
    x, y, w, h = cv2.boundingRect(max(contours, key=cv2.contourArea))
    expected = np.tile([x, y, x + w, y + h], (NUM_LEVELS, 1))

    def opencv3_find_contours(image, *args, **kwargs):
        return (image, ) + tuple(real(image, *args, **kwargs))

    monkeypatch.setattr(cv2, 'findContours', opencv3_find_contours)
    monkeypatch.setattr(wsol_protocol, '_CONTOUR_INDEX', 1)
    largest, _, _, traced = boxes_at_all_levels(dots)
    assert traced == NUM_LEVELS
    np.testing.assert_array_equal(largest, expected)
