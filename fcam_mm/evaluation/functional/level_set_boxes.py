"""Protocol boxes of a uint8 score map at every threshold level at once.

The box metrics of Choe et al. (CVPR 2020) threshold the quantised map ``q``
at ``q > t`` for every ``t`` of the threshold list and extract contours with
``cv2.findContours(RETR_TREE)`` each time. A uint8 map has at most 255
distinct foregrounds (t = 0 .. 254); this module gets the boxes of all of
them from the component trees of the map, with no contour tracing except
where it cannot decide exactly.

Facts used (each checked against OpenCV by ``tests/test_evaluation``):

1. The contours of a binary map are one outer border per 8-connected
   foreground component and one hole border per hole (a 4-connected
   background component that does not touch the image border).
2. The bounding rectangle of an outer border is the bounding box of its
   component; the one of a hole border is the hole's bounding box grown by
   one pixel on every side.
3. ``cv2.contourArea`` of an outer border is the bit-quad area of the filled
   component: ``n4 + n3 / 2`` over the 2x2 cells of the (zero-padded) map,
   where n4 / n3 count cells with 4 / 3 pixels of the component or of what
   it encloses. A hole border never has a larger area than its parent's
   outer border and is listed after it.

So MaxBoxAccV2's boxes at level ``t`` are the component and hole boxes, and
MaxBoxAcc's box is the box of the component with the largest filled area.

Component trees. The foreground ``{q > s}`` (8-connected) and the background
``{255 - q > s} = {q <= 254 - s}`` (4-connected, with a frame around the
image that marks the background touching the border) are both the upper
level sets of a value image ``z``, s = 0 .. 254:

* *Regions.* Every column is cut into unimodal segments (non-decreasing,
  then non-increasing): the part of a segment above any level is an
  interval. Each segment climbs from its peak to the highest neighbouring
  pixel when that one is higher; the segments that reach the same local
  maximum form a region whose part above any level is connected (the
  climbs go through pixels at least as high). Regions joined to a higher
  neighbour at every level where they exist (a pass equal to their own
  maximum: plateaus) are folded into it.
* *Tree.* Kruskal on the region adjacency graph by decreasing pass (two
  regions touch at level ``s`` when two neighbouring pixels of theirs are
  both above ``s``) gives a leaf order in which every component at every
  level is a contiguous run of regions, split where the merge height between
  neighbouring leaves is ``<= s``.
* *Statistics.* Per leaf and value, the extreme rows and columns and the
  bit-quad cell counts of its pixels, prefix-reduced over the values above
  each level (segmented doubling scans: ``ufunc.accumulate`` has no
  vectorised loop) and reduced over the runs, give the box and the area of
  every component at every level. The frame's component (the background
  that touches the border) is dropped, so a background leaf only needs the
  levels above its merge with the frame.

MaxBoxAcc needs the largest contour. Where holes exist the filled area of a
component is bounded (its own bit-quad area from below, plus the cells its
holes' boxes can touch from above); if one component's lower bound beats
every other component's upper bound it wins, otherwise — ties included — the
level is handed to ``cv2.findContours`` so the result is the reference's
whatever its tie-breaking order.

Costs (docs/benchmarks.md): a few dozen vectorised passes over the pixels
per tree, plus small arrays over the regions (tens to hundreds per map) and
one Python loop over their touching pairs (Kruskal).
"""
from typing import List

import cv2
import numpy as np

from .wsol_protocol import MAX_HISTOGRAM_PIXELS, contour_boxes

#: Threshold levels of a uint8 map: foreground ``q > t`` for t = 0 .. 254.
NUM_LEVELS = 255
_BIG = np.iinfo(np.int32).max
_KERNELS = {8: np.ones((3, 3), np.uint8),
            4: np.array([[0, 1, 0], [1, 1, 1], [0, 1, 0]], np.uint8)}
#: Region pairs are deduplicated in a dense k x k table up to this many
#: regions (a larger table costs more to clear and scan than a sort).
_DENSE_PAIRS = 128


class _Grid:
    """Index arrays of an (H, W) map, cached by shape."""
    _cache: dict = {}

    def __init__(self, height: int, width: int):
        self.height, self.width = height, width
        n = height * width
        # Steepest-ascent keys z * 2^bits + pixel index: float32 is exact
        # below 2^24, i.e. up to 65536 pixels; float64 beyond.
        self.bits = 16 if n <= 65536 else int(n).bit_length()
        self.mask = (1 << self.bits) - 1
        key_dtype = np.float32 if n <= 65536 else np.float64
        self.index_key = np.arange(n, dtype=key_dtype).reshape(height, width)
        code_dtype = np.int16 if 2 * height < 32000 else np.int32
        # 2 * row of every vertical difference (see _column_segments)
        self.diff_code = np.repeat(
            (2 * np.arange(max(height - 1, 0))).astype(code_dtype)[:, None],
            width, axis=1)
        border = np.zeros((height, width), bool)
        border[[0, -1]] = True
        border[:, [0, -1]] = True
        self.is_border = border.reshape(-1)
        self.border = np.flatnonzero(self.is_border)
        w = width
        # forward neighbours that are not vertical: (flat offset, first
        # position whose pair wraps around a row end, then every w-th)
        self.side_offsets = {8: [(1, w - 1), (w + 1, w - 1), (w - 1, 0)],
                             4: [(1, w - 1)]}
        if width == 1:
            self.side_offsets = {8: [], 4: []}

    @classmethod
    def get(cls, height: int, width: int) -> '_Grid':
        grid = cls._cache.get((height, width))
        if grid is None:
            if len(cls._cache) > 8:
                cls._cache.clear()
            grid = cls._cache[(height, width)] = cls(height, width)
        return grid


def _take_until_stable(parent: np.ndarray) -> np.ndarray:
    """Pointer jumping: every entry ends on the root of its chain."""
    buf = np.empty_like(parent)
    while True:
        np.take(parent, parent, out=buf)
        if np.array_equal(buf, parent):
            return parent
        parent, buf = buf, parent


def _column_segments(z: np.ndarray, grid: _Grid):
    """Cut every column into unimodal segments.

    A segment starts at a strict increase that follows a strict decrease
    (plateaus between them included), so it is non-decreasing, then
    non-increasing, and its pixels above any level form an interval.

    Returns:
        tuple: ``(seg (H, W) int32 segment of each pixel, numbered column
        by column; peaks (k0,) flat index of the last pixel of each
        segment's top plateau (its highest key); start (H, W) bool)``.
    """
    h, w = z.shape
    start = np.zeros((h, w), bool)
    start[0] = True
    peak = np.ones((h, w), bool)
    if h > 1:
        zi = z.astype(np.int16)
        dz = zi[1:] - zi[:-1]
        fall = dz < 0
        # the latest change at or before each difference, coded 2 * row +
        # fall (-2 before any): a forward max-scan by doubling carries it
        code = grid.diff_code + fall
        code += 2
        code *= dz != 0
        code -= 2
        s = 1
        while s < h - 1:
            np.maximum(code[s:], code[:-s], out=code[s:])
            s *= 2
        after_fall = (code & 1).astype(bool)
        start[2:] = (dz[1:] > 0) & after_fall[:-1]
        # the peak ends the ascent: next pixel lower or in a new segment
        np.logical_or(fall, start[1:], out=peak[:-1])
        peak[1:] &= ~after_fall
    st = cv2.transpose(start.view(np.uint8)).reshape(-1).astype(np.int32)
    seg_t = np.cumsum(st, dtype=np.int32)
    seg_t -= 1
    seg = cv2.transpose(seg_t.reshape(w, h))
    top = np.flatnonzero(peak)
    peaks = np.empty(int(seg_t[-1]) + 1, np.int64)
    peaks[seg.reshape(-1)[top]] = top
    return seg, peaks, start


def _regions(z: np.ndarray, conn: int, frame: bool, grid: _Grid):
    """Segments joined along the steepest ascent from their peaks.

    Returns:
        tuple: ``(labels (N,) int32 region of every pixel, region of every
        segment (k0,), segment peaks (k0,), segment starts, root values
        (k,) int64, root keys (k,) int64, frame region or -1)``. With
        ``frame``, the last region is the frame (value 256, above every
        level), which every segment whose peak is on the border climbs to.
    """
    seg, peaks, start = _column_segments(z, grid)
    k0 = len(peaks)
    key = cv2.scaleAdd(z.astype(grid.index_key.dtype), float(1 << grid.bits),
                       grid.index_key)
    best = cv2.dilate(key, _KERNELS[conn]).reshape(-1)[peaks]
    climb = np.flatnonzero(best > key.reshape(-1)[peaks])
    segf = seg.reshape(-1)
    parent = np.arange(k0 + 1 if frame else k0)
    parent[climb] = segf[best[climb].astype(np.int64) & grid.mask]
    if frame:
        parent[:k0][grid.is_border[peaks]] = k0
    parent = _take_until_stable(parent)
    roots = np.flatnonzero(parent == np.arange(len(parent)))
    k = len(roots)
    lut = np.empty(len(parent), np.int32)
    lut[roots] = np.arange(k, dtype=np.int32)
    seg_region = lut[parent][:k0]
    labels = np.take(seg_region, segf)
    root_pix = peaks[roots[:-1] if frame else roots]
    values = z.reshape(-1)[root_pix].astype(np.int64)
    keys = (values << grid.bits) | root_pix
    if frame:
        values = np.append(values, 256)
        keys = np.append(keys, 257 << grid.bits)
    return (labels, seg_region, peaks, start, values, keys,
            k - 1 if frame else -1)


class _PairTable:
    """Highest pass of every unordered pair of ``k`` regions."""

    def __init__(self, k: int):
        self.k = k
        self.codes, self.passes = [], []

    def add(self, a, b, p) -> None:
        """Pairs of region ids (int arrays) with their passes (0 .. 255)."""
        a = a.astype(np.int64)
        b = b.astype(np.int64)
        code = np.minimum(a, b)
        code *= self.k
        code += np.maximum(a, b)
        self.codes.append(code)
        self.passes.append(p)

    def pairs(self):
        """``(a, b, pass)`` int64 of every pair with a pass > 0 (0 joins at
        no level)."""
        code = np.concatenate(self.codes)
        if self.k <= _DENSE_PAIRS:
            table = np.zeros(self.k * self.k, np.int16)
            np.maximum.at(table, code,
                          np.concatenate(self.passes).astype(np.int16))
            code = np.flatnonzero(table)
            best = table[code].astype(np.int64)
        else:  # one sort of pair * 256 + pass: the last of a pair is its best
            code <<= 8
            code |= np.concatenate(self.passes).astype(np.int64)
            code.sort()
            last = np.append(code[1:] >> 8 != code[:-1] >> 8, True)
            last &= (code & 255) > 0
            best = code[last] & 255
            code = code[last] >> 8
        return code // self.k, code % self.k, best


def _region_pairs(labels, z, start, conn, frame, frame_region, k, grid):
    """``(a, b, highest pass)`` of the regions that touch."""
    w = grid.width
    zflat = z.reshape(-1).astype(np.int16)
    table = _PairTable(k)
    # vertical neighbours are in different regions only across a segment
    # start
    st = np.flatnonzero(start.reshape(-1)[w:])
    if len(st):
        st += w
        table.add(labels[st - w], labels[st],
                  np.minimum(zflat[st - w], zflat[st]))
    for off, wrap in grid.side_offsets[conn]:
        d = labels[:-off] != labels[off:]
        d[wrap::w] = False
        pos = np.flatnonzero(d)
        nxt = pos + off
        table.add(labels[pos], labels[nxt],
                  np.minimum(zflat[pos], zflat[nxt]))
    if frame:  # every border pixel touches the frame
        table.add(labels[grid.border],
                  np.full(len(grid.border), frame_region, np.int64),
                  zflat[grid.border])
    return table.pairs()


def _absorb(values, keys, pairs, frame_region):
    """Fold every region into a higher-key neighbour that joins it at every
    level where it exists: their pass equals the region's own maximum
    (typically a plateau that the index tie-break split). One target per
    region (folding two higher neighbours together through it would join
    them at levels where it is absent); targets have higher keys, so there
    is no cycle.

    Returns:
        tuple: ``(group (k,) or None when nothing folds, values, pairs,
        frame region)`` of the groups.
    """
    k = len(values)
    a, b, p = pairs
    target = np.arange(k)
    up = (p == values[a]) & (keys[b] > keys[a])
    target[a[up]] = b[up]
    down = (p == values[b]) & (keys[a] > keys[b])
    target[b[down]] = a[down]
    target = _take_until_stable(target)
    roots = np.flatnonzero(target == np.arange(k))
    if len(roots) == k:
        return None, values, pairs, frame_region
    lut = np.empty(k, np.int64)
    lut[roots] = np.arange(len(roots))
    group = lut[target]
    table = _PairTable(len(roots))
    keep = group[a] != group[b]
    table.add(group[a[keep]], group[b[keep]], p[keep].astype(np.int16))
    return (group, values[roots], table.pairs(),
            int(group[frame_region]) if frame_region >= 0 else -1)


def _kruskal_order(pairs, k: int):
    """Leaf order of the regions and merge heights between neighbours.

    Kruskal on the region pairs by decreasing pass, keeping for each cluster
    the list of its leaves; joining two clusters concatenates their lists.
    Clusters that no pair joins follow each other with height 0 (apart at
    every level).

    Returns ``(order (k,), junction (k-1,))``: at level ``s`` two consecutive
    leaves are in one component iff ``junction > s``.
    """
    if k == 1:
        return np.zeros(1, np.int64), np.zeros(0, np.int64)
    a, b, p = pairs
    srt = np.argsort(-p, kind='stable')
    parent = list(range(k))
    members: List[list] = [[i] for i in range(k)]
    junction = [0] * k  # height after leaf i (by leaf id)
    merges = 0
    for u, v, height in zip(a[srt].tolist(), b[srt].tolist(),
                            p[srt].tolist()):
        while parent[u] != u:
            parent[u] = parent[parent[u]]
            u = parent[u]
        while parent[v] != v:
            parent[v] = parent[parent[v]]
            v = parent[v]
        if u == v:
            continue
        mu, mv = members[u], members[v]
        if len(mu) < len(mv):
            u, v, mu, mv = v, u, mv, mu
        junction[mu[-1]] = height
        mu.extend(mv)
        members[v] = None
        parent[v] = u
        merges += 1
        if merges == k - 1:
            break
    order: List[int] = []
    for i in range(k):
        if parent[i] == i:
            order.extend(members[i])
    order = np.asarray(order, np.int64)
    return order, np.asarray(junction, np.int64)[order[:-1]]


class _Cells:
    """2x2 cells of the zero-padded map. Zero is in no foreground (levels
    start at 0 and the foreground is strict), so padding with 0 is padding
    with 'outside'."""

    def __init__(self, q: np.ndarray):
        qp = cv2.copyMakeBorder(q, 1, 1, 1, 1, cv2.BORDER_CONSTANT, value=0)
        a, b = qp[:-1, :-1], qp[:-1, 1:]
        c, d = qp[1:, :-1], qp[1:, 1:]
        lo1, hi1 = cv2.min(a, b), cv2.max(a, b)
        lo2, hi2 = cv2.min(c, d), cv2.max(c, d)
        #: 4th / 3rd highest value of each cell: 4 / 3+ of its pixels are
        #: in ``q > s`` iff s < v4 / s < v3
        self.v4 = cv2.min(lo1, lo2)
        self.v3 = cv2.min(cv2.max(lo1, lo2), cv2.min(hi1, hi2))
        # The foreground pixels of a cell are 8-connected: the cell belongs
        # to the component of the higher of its corners (0, 0) / (1, 1),
        # which is in the foreground whenever 3+ pixels are.
        self.top_is_a = a >= d

    def counts(self, labels: np.ndarray, k: int, grid: _Grid):
        """``(region, value, count)``: the cells by (owner region, v3) plus
        by (owner region, v4) — twice the bit-quad area once summed over the
        values above a level."""
        lab = labels.reshape(grid.height, grid.width)
        lab = lab.astype(np.uint8) if k <= 256 else lab.astype(np.float32)
        lp = cv2.copyMakeBorder(lab, 1, 1, 1, 1, cv2.BORDER_CONSTANT,
                                value=0)
        owner = np.where(self.top_is_a, lp[:-1, :-1], lp[1:, 1:])
        v3, v4 = self.v3, self.v4
        if k > 256:  # calcHist wants one depth
            v3, v4 = v3.astype(np.float32), v4.astype(np.float32)
        ranges = [0, k, 0, 256]
        hist = cv2.calcHist([owner, v3], [0, 1], None, [k, 256], ranges)
        hist += cv2.calcHist([owner, v4], [0, 1], None, [k, 256], ranges)
        hist[:, 0] = 0  # value 0 is in no level
        nz = np.flatnonzero(hist)
        region, value = np.divmod(nz, 256)
        return region, value, hist.reshape(-1)[nz].astype(np.int64)


class _LeafTables:
    """Per leaf ``p``, one row per level ``s`` in ``[lo_p, v_p - 1]`` where
    its component is needed, row ``o = v_p - 1 - s``. A pixel of value ``v``
    goes to row ``v_p - v`` (dropped past the last row); a prefix scan over
    the rows then holds, at row ``o``, what the leaf's pixels of value
    ``> s`` give. Leaves are grouped by ``ceil(log2(rows))`` into dense
    ``(2^c, n_c, width)`` blocks, so that the doubling scan touches few
    unused cells."""

    def __init__(self, span: np.ndarray, width: int, fill, dtype):
        k = len(span)
        cls = np.full(k, -1, np.int64)
        cls[span == 1] = 0
        many = span > 1
        cls[many] = np.ceil(np.log2(span[many])).astype(np.int64)
        self.span = span
        self.width = width
        self.blocks = []
        self.leaf_base = np.zeros(k, np.int64)
        self.leaf_stride = np.zeros(k, np.int64)
        total = 0
        for c in np.unique(cls[cls >= 0]).tolist():
            members = np.flatnonzero(cls == c)
            rows, n_c = 1 << c, len(members)
            self.leaf_base[members] = total + np.arange(n_c) * width
            self.leaf_stride[members] = n_c * width
            self.blocks.append((total, rows, n_c * width))
            total += rows * n_c * width
        self.flat = np.full(total, fill, dtype)

    def index(self, leaf: np.ndarray, row: np.ndarray):
        """Flat index of column 0 of (leaf, row), and whether that row
        exists."""
        return (self.leaf_base[leaf] + row * self.leaf_stride[leaf],
                row < self.span[leaf])

    def scan(self, ufunc) -> None:
        for start, rows, cols in self.blocks:
            block = self.flat[start:start + rows * cols].reshape(rows, cols)
            s = 1
            while s < rows:
                ufunc(block[s:], block[:-s].copy(), out=block[s:])
                s *= 2

    def gather(self, leaf: np.ndarray, row: np.ndarray, column: int = 0):
        return self.flat[self.leaf_base[leaf] + row * self.leaf_stride[leaf]
                         + column]


def _frame_heights(junc: np.ndarray, frame_pos: int, k: int) -> np.ndarray:
    """Lowest junction between every leaf and the frame leaf: the leaf is in
    the frame's component exactly at the levels below it."""
    out = np.full(k, _BIG, np.int64)
    if frame_pos > 0:
        out[:frame_pos] = np.minimum.accumulate(junc[:frame_pos][::-1])[::-1]
    if frame_pos < k - 1:
        out[frame_pos + 1:] = np.minimum.accumulate(junc[frame_pos:])
    return out


def _component_tree(z: np.ndarray, conn: int, frame: bool, grid: _Grid,
                    cells: _Cells = None) -> dict:
    """Components of ``{z > s}`` for s = 0 .. 254 (see the module
    docstring).

    Args:
        z: (H, W) uint8 values.
        conn: 8 (foreground) or 4 (background) connectivity.
        frame: surround the image with a frame above every level and drop
            the components that hold it (for holes).
        cells: also the bit-quad areas (foreground).

    Returns:
        dict: per component, grouped by level (decreasing): ``s``, ``ymin``,
        ``top_x`` (the column of one of its pixels in row ``ymin``),
        ``ymax``, ``xmin``, ``xmax`` and, with ``cells``, ``area2`` (twice
        the bit-quad area); plus what maps a pixel and a level to its
        component: ``labels`` (H, W), ``pos``, ``v_leaf``, ``span``,
        ``ragged``, ``comp_of``.
    """
    n_lv = NUM_LEVELS
    height, width = z.shape
    labels, seg_region, peaks, start, values, keys, frame_region = _regions(
        z, conn, frame, grid)
    k = len(values)
    if k > 1:
        group, values, pairs, frame_region = _absorb(
            values, keys,
            _region_pairs(labels, z, start, conn, frame, frame_region, k,
                          grid), frame_region)
        if group is not None:
            g32 = group.astype(np.int32)
            labels = np.take(g32, labels)
            seg_region = g32[seg_region]
        k = len(values)
    else:
        pairs = None
    order, junc = _kruskal_order(pairs, k)
    pos = np.empty(k, np.int64)
    pos[order] = np.arange(k)
    v_leaf = values[order]
    lo_leaf = np.zeros(k, np.int64)
    if frame:
        lo_leaf = np.minimum(_frame_heights(junc, pos[frame_region], k),
                             v_leaf)
    span = v_leaf - lo_leaf
    top_row = v_leaf[pos]  # per region: a pixel value v goes to row top - v

    # extremes, all minimised: top row * 65536 + a column there, -bottom
    # row, left column, -right column
    ext = _LeafTables(span, 4, _BIG, np.int32)
    # rows: the highest (value, column) of each region in each row; only
    # pixels that no same-region horizontal neighbour beats can be it
    lab2 = labels.reshape(height, width)
    same = lab2[:, 1:] == lab2[:, :-1]
    right_wins = z[:, 1:] >= z[:, :-1]
    beaten = np.zeros((height, width), bool)
    beaten[:, :-1] = same & right_wins
    beaten[:, 1:] |= same & ~right_wins
    cand = np.flatnonzero(~beaten)
    val = z.reshape(-1)[cand].astype(np.int32)
    val <<= 16
    val |= (cand % width).astype(np.int32)
    row_best = np.full(k * height, -1, np.int32)
    np.maximum.at(row_best, labels[cand].astype(np.int64) * height +
                  cand // width, val)
    cell = np.flatnonzero(row_best >= 65536)  # value >= 1
    best = row_best[cell]
    region, row = np.divmod(cell, height)
    idx, ok = ext.index(pos[region], top_row[region] - (best >> 16))
    idx, best = idx[ok], best[ok]
    row = row[ok].astype(np.int32)
    np.minimum.at(ext.flat, idx, (row << 16) | (best & 65535))
    np.minimum.at(ext.flat, idx + 1, -row)
    # columns: a segment lies in one column and its peak is its maximum
    seg_val = z.reshape(-1)[peaks].astype(np.int64)
    live = np.flatnonzero(seg_val)
    region = seg_region[live]
    idx, ok = ext.index(pos[region], top_row[region] - seg_val[live])
    idx = idx[ok]
    col = (peaks[live[ok]] % width).astype(np.int32)
    np.minimum.at(ext.flat, idx + 2, col)
    np.minimum.at(ext.flat, idx + 3, -col)
    ext.scan(np.minimum)

    # components: at level s the leaves that are needed, in leaf order; a
    # run of consecutive leaves joined above s (a leaf that does not exist
    # at s is alone: it only touches others at passes <= its maximum)
    thr = (n_lv - 1 - np.arange(n_lv))[:, None]
    alive = np.flatnonzero((v_leaf[None, :] > thr) & (lo_leaf[None, :] <= thr))
    r, p = np.divmod(alive, k)
    s = n_lv - 1 - r
    after = np.append(junc, 0)
    first = np.ones(len(alive), bool)
    first[1:] = ((r[1:] != r[:-1]) | (p[1:] != p[:-1] + 1) |
                 (after[p[:-1]] <= s[1:]))
    runs = np.flatnonzero(first)
    row = v_leaf[p] - 1 - s
    if len(runs):
        stats = [np.minimum.reduceat(ext.gather(p, row, c), runs)
                 for c in range(4)]
    else:
        stats = [np.zeros(0, np.int32)] * 4
    ragged = np.cumsum(span) - span
    comp_of = np.full(int(span.sum()), -1, np.int64)
    comp_of[ragged[p] + row] = np.cumsum(first, dtype=np.int64) - 1
    comp = dict(
        s=s[runs],
        ymin=(stats[0] >> 16).astype(np.int64),
        top_x=(stats[0] & 65535).astype(np.int64),
        ymax=-stats[1].astype(np.int64),
        xmin=stats[2].astype(np.int64),
        xmax=-stats[3].astype(np.int64))
    if cells is not None:
        area = _LeafTables(span, 1, 0, np.int64)
        region, value, count = cells.counts(labels, k, grid)
        idx, ok = area.index(pos[region], top_row[region] - value)
        np.add.at(area.flat, idx[ok], count[ok])
        area.scan(np.add)
        comp['area2'] = (np.add.reduceat(area.gather(p, row), runs)
                         if len(runs) else np.zeros(0, np.int64))
    comp.update(labels=lab2, pos=pos, v_leaf=v_leaf, span=span,
                ragged=ragged, comp_of=comp_of)
    return comp


def _protocol_boxes(comp: dict, height: int, width: int, grow: int = 0):
    """``[x0, y0, min(x1 + 1, W - 1), min(y1 + 1, H - 1)]`` of pixel extents
    (grown by ``grow`` pixels first, for hole borders)."""
    return np.stack([
        comp['xmin'] - grow, comp['ymin'] - grow,
        np.minimum(comp['xmax'] + grow + 1, width - 1),
        np.minimum(comp['ymax'] + grow + 1, height - 1)
    ], axis=1)


def check_level_set_size(size_hw, option: str = 'map size') -> None:
    """Raise unless the level-set areas of an (H, W) map are counted
    exactly: they are float32 ``cv2.calcHist`` counts of two entries per
    2×2 cell of the padded map, exact up to 2^24, so ``2 (H+1)(W+1)`` must
    not exceed :data:`MAX_HISTOGRAM_PIXELS` (2895² for a square map)."""
    height, width = (int(v) for v in size_hw)
    if 2 * (height + 1) * (width + 1) > MAX_HISTOGRAM_PIXELS:
        raise ValueError(
            f'{option} {height}x{width} is too large for exact box metrics: '
            f'the level-set areas count 2·(H+1)·(W+1) = '
            f'{2 * (height + 1) * (width + 1)} cells, more than '
            f'{MAX_HISTOGRAM_PIXELS} (2**24, where the float32 counts of '
            f'cv2.calcHist stop being exact): use a smaller {option}')


def boxes_at_all_levels(quantized: np.ndarray):
    """MaxBoxAcc and MaxBoxAccV2 boxes of ``q > t`` for t = 0 .. 254.

    Identical to running ``wsol_protocol.contour_boxes`` on each of the 255
    binary maps (``tests/test_evaluation`` checks it against that brute
    force on thousands of random maps).

    Args:
        quantized: uint8 (H, W) map.

    Returns:
        tuple: ``(largest (255, 4), all_boxes (M, 4), all_levels (M,),
        num_traced)`` — the box of the largest contour at each level, the
        boxes of all contours with their level (sorted by level; a level
        without contour has the box [0, 0, 0, 0]), and how many levels were
        handed to ``cv2.findContours`` to decide the largest.
    """
    q = np.ascontiguousarray(quantized)
    if q.ndim != 2 or q.dtype != np.uint8:
        raise ValueError('boxes_at_all_levels expects a 2-D uint8 map')
    height, width = q.shape
    if max(height, width) >= 32768:
        raise ValueError(f'map too large for the level-set algorithm: '
                         f'{height}x{width}')
    check_level_set_size((height, width))
    largest = np.zeros((NUM_LEVELS, 4), np.int64)
    if int(q.max()) == 0:  # no foreground at any level: the [0, 0, 0, 0] box
        return (largest, np.zeros((NUM_LEVELS, 4), np.int64),
                np.arange(NUM_LEVELS), 0)
    grid = _Grid.get(height, width)
    fg = _component_tree(q, 8, False, grid, _Cells(q))
    f_level = fg['s']
    f_boxes = _protocol_boxes(fg, height, width)
    lower = fg['area2']  # twice the bit-quad area
    upper = lower.copy()

    # holes of {q > t}: the 4-connected components of {255 - q > 254 - t}
    # away from the frame
    bg = _component_tree(255 - q, 4, True, grid)
    h_level = (NUM_LEVELS - 1) - bg['s']
    if len(h_level):
        # the component enclosing a hole holds the pixel above any pixel of
        # the hole's top row; the filled area of a component is at most its
        # own plus every cell its holes' boxes touch
        leaf = fg['pos'][fg['labels'][bg['ymin'] - 1, bg['top_x']]]
        row = fg['v_leaf'][leaf] - 1 - h_level
        if (row < 0).any() or (row >= fg['span'][leaf]).any():
            raise RuntimeError('hole without an enclosing component')
        parent = fg['comp_of'][fg['ragged'][leaf] + row]
        if (parent < 0).any():
            raise RuntimeError('hole without an enclosing component')
        w_h = bg['xmax'] - bg['xmin'] + 1
        h_h = bg['ymax'] - bg['ymin'] + 1
        np.add.at(upper, parent, 2 * (w_h + 1) * (h_h + 1))

    # MaxBoxAcc: the component with the largest filled area, decided when
    # its lower bound beats every other component's upper bound (a single
    # component always wins: its holes never beat it); components come
    # level by level
    seg = np.flatnonzero(np.r_[True, f_level[1:] != f_level[:-1]])
    seg_level = f_level[seg]
    comp_seg = np.repeat(np.arange(len(seg)),
                         np.diff(np.r_[seg, len(f_level)]))
    best_lower = np.maximum.reduceat(lower, seg)
    is_best = lower == best_lower[comp_seg]
    cand = np.full(len(seg), len(f_level), np.int64)
    np.minimum.at(cand, comp_seg[is_best], np.flatnonzero(is_best))
    others = upper.copy()
    others[cand] = -1
    decided = lower[cand] > np.maximum.reduceat(others, seg)
    largest[seg_level[decided]] = f_boxes[cand[decided]]
    traced = seg_level[~decided]
    for t in traced.tolist():
        largest[t] = _largest_contour_box(q, t)

    # MaxBoxAccV2: every contour (levels >= max(q) have none: [0,0,0,0])
    empty = np.ones(NUM_LEVELS, bool)
    empty[f_level] = False
    empty = np.flatnonzero(empty)
    all_levels = np.concatenate([f_level, h_level, empty])
    all_boxes = np.concatenate([
        f_boxes, _protocol_boxes(bg, height, width, grow=1),
        np.zeros((len(empty), 4), np.int64)])
    srt = np.argsort(all_levels, kind='stable')
    return largest, all_boxes[srt], all_levels[srt], len(traced)


def _largest_contour_box(q: np.ndarray, t: int) -> np.ndarray:
    """The protocol box of the largest contour of ``q > t`` (first of the
    largest on ties, in cv2.findContours' order), by
    :func:`~.wsol_protocol.contour_boxes` itself."""
    boxes, largest = contour_boxes((q > t).view(np.uint8))
    return boxes[largest]
