"""The pieces of the WSOL evaluation protocol of Choe et al., "Evaluating
Weakly Supervised Object Localization Methods Right", CVPR 2020 (reference
code: ``clovaai/wsolevaluation``), written so that every number matches the
reference on the same inputs.

Conventions (docs/metrics.md explains each one):

* a score map is resized to the evaluation size with bicubic interpolation
  (``cv2.resize(..., INTER_CUBIC)``) in float64 — the reference converts the
  CAM with ``astype(np.float)`` before resizing — then min-max normalised per
  image (all zeros when the map is constant or holds a NaN);
* thresholds ``tau = arange(0, 1, step)`` (1,000 values for step 0.001);
* boxes: the normalised map is quantised to uint8 (``(s * 255)`` truncated),
  the foreground at ``tau`` is ``q > int(tau * max(q))``; contours come from
  ``cv2.findContours(RETR_TREE, CHAIN_APPROX_SIMPLE)`` (holes included); a
  contour's box is ``[x, y, x + w, y + h]`` clipped to ``W - 1`` / ``H - 1``
  (one pixel larger than the contour on the right and bottom, as in the
  reference); no contour gives ``[0, 0, 0, 0]``;
* IoU with inclusive coordinates (``+1`` in widths and heights);
* GT boxes are rescaled to the evaluation size by truncation;
* PxAP: histograms of the float scores of object / background pixels over
  the bins ``[tau_0, tau_1), ..., [tau_last, 1), [1, 2), [2, 3]`` summed over
  the split; foreground at ``tau`` is ``s >= tau``.

Everything here is plain NumPy / OpenCV on the CPU.
"""
from numbers import Integral
from typing import Dict, Optional, Sequence, Tuple, Union

import cv2
import numpy as np

#: Side of the square evaluation frame of the protocol.
EVAL_SIZE = 224
#: Interval between two score-map thresholds of the protocol.
CAM_CURVE_INTERVAL = 0.001
#: IoU thresholds (in %) of MaxBoxAccV2.
IOU_THRESHOLDS = (30, 50, 70)

# Labels of a merged GT mask.
MASK_BACKGROUND, MASK_OBJECT, MASK_IGNORE = 0, 1, 255

#: Most thresholds the pixel histograms index: a bin is split into two
#: uint8 planes (high and low byte) for one ``cv2.calcHist``, and a score in
#: ``[0, 1]`` lands at most in bin ``len(thresholds)`` (``[1, 2)``).
MAX_HISTOGRAM_THRESHOLDS = 2**16 - 1
#: Most pixels per map the pixel histograms count exactly: ``cv2.calcHist``
#: counts in float32, exact up to 2^24.
MAX_HISTOGRAM_PIXELS = 2**24

# cv2 3.x returns (image, contours, hierarchy); 4.x and later drop the image.
_CONTOUR_INDEX = 1 if cv2.__version__.split('.')[0] == '3' else 0


# --------------------------------------------------------------------------
# Options and inputs
# --------------------------------------------------------------------------
def parse_eval_size(eval_size: Union[int, Sequence[int]]) -> Tuple[int, int]:
    """``224`` or ``(h, w)`` → ``(h, w)``; positive integers only."""
    if isinstance(eval_size, Integral):
        size = (int(eval_size), int(eval_size))
    else:
        size = tuple(eval_size)
        if len(size) != 2 or not all(isinstance(s, Integral) for s in size):
            raise ValueError('eval_size must be an int or a pair (h, w) of '
                             f'ints, got {eval_size!r}')
        size = (int(size[0]), int(size[1]))
    if size[0] < 1 or size[1] < 1:
        raise ValueError(f'eval_size must be positive, got {eval_size!r}')
    return size


def cam_threshold_list(step: float = CAM_CURVE_INTERVAL) -> np.ndarray:
    """The score-map thresholds ``tau``: ``np.arange(0, 1, step)`` (float64).

    With the protocol's step 0.001 these are the 1,000 values 0, 0.001, ...,
    0.999; 1.0 is excluded.
    """
    step = float(step)
    if not np.isfinite(step) or not 0 < step < 1:
        raise ValueError(f'the threshold step must be in (0, 1), got {step}')
    return np.arange(0, 1, step)


def to_numpy(value, name: str) -> np.ndarray:
    """A tensor (any device) or array-like as a NumPy array."""
    if hasattr(value, 'detach'):  # torch.Tensor
        value = value.detach()
        if value.dtype.is_floating_point and value.element_size() < 4:
            value = value.float()  # bf16/fp16 have no NumPy equivalent
        value = value.cpu().numpy()
    try:
        return np.asarray(value)
    except Exception as e:
        raise TypeError(f'{name}: cannot convert {type(value).__name__} to '
                        f'an array: {e}') from e


def as_score_map(value, name: str = 'score map') -> np.ndarray:
    """Check a score map and return it as a 2-D float64 array.

    Accepts ``(h, w)`` or ``(1, h, w)``. Raises on any other shape, an empty
    map, a non-numeric dtype or an infinite value. NaN is let through: the
    protocol turns a map holding a NaN into zeros (:func:`normalize_scoremap`).
    """
    arr = to_numpy(value, name)
    if arr.ndim == 3 and arr.shape[0] == 1:
        arr = arr[0]
    if arr.ndim != 2:
        raise ValueError(f'{name} must be a 2-D (h, w) map of the GT class, '
                         f'got shape {tuple(arr.shape)}')
    if arr.shape[0] < 1 or arr.shape[1] < 1:
        raise ValueError(f'{name} is empty: shape {tuple(arr.shape)}')
    if not (np.issubdtype(arr.dtype, np.floating)
            or np.issubdtype(arr.dtype, np.integer)
            or arr.dtype == np.bool_):
        raise TypeError(f'{name} must be numeric, got dtype {arr.dtype}')
    arr = arr.astype(np.float64)
    if np.isinf(arr).any():
        raise ValueError(f'{name} holds an infinite value; the protocol '
                         'cannot normalise it (NaN maps become zeros, '
                         'infinite ones are an error)')
    return arr


def as_hw(value, name: str = 'ori_shape') -> Tuple[int, int]:
    """``(H, W)`` of an image as two positive ints."""
    arr = to_numpy(value, name).reshape(-1)
    if arr.size < 2:
        raise ValueError(f'{name} must hold (H, W), got {value!r}')
    h, w = arr[0], arr[1]
    if float(h) != int(h) or float(w) != int(w) or int(h) < 1 or int(w) < 1:
        raise ValueError(f'{name} must be two positive integers (H, W), '
                         f'got {value!r}')
    return int(h), int(w)


# --------------------------------------------------------------------------
# Score maps
# --------------------------------------------------------------------------
def resize_scoremap(scoremap: np.ndarray,
                    size_hw: Tuple[int, int],
                    out: Optional[np.ndarray] = None) -> np.ndarray:
    """Bicubic resize (``cv2.INTER_CUBIC``) of a float64 map to ``(h, w)``.

    As in the reference, the resize is always applied (a map already at the
    evaluation size is copied unchanged by OpenCV). ``out``: an (h, w)
    float64 buffer to write into.
    """
    h, w = size_hw
    src = np.ascontiguousarray(scoremap, dtype=np.float64)
    if out is not None and out.shape == (h, w) and out.dtype == np.float64:
        return cv2.resize(src, (w, h), dst=out,
                          interpolation=cv2.INTER_CUBIC)
    return cv2.resize(src, (w, h), interpolation=cv2.INTER_CUBIC)


def normalize_scoremap(scoremap: np.ndarray,
                       inplace: bool = False) -> Tuple[np.ndarray, bool]:
    """Per-image min-max normalisation ``(s - min) / (max - min)``.

    Computed as the reference does (subtract the minimum, then divide by the
    new maximum, in float64). A map that holds a NaN or is constant becomes
    all zeros (defined result of the protocol).

    Args:
        scoremap: float64 map.
        inplace: normalise ``scoremap`` itself (it must be a float64 array
            the caller owns).

    Returns:
        tuple: the normalised map and whether it was degenerate (zeroed).
    """
    cam = scoremap if inplace else np.array(scoremap, np.float64)
    low = cam.min()
    if np.isnan(low) or low == cam.max():  # min() propagates NaN
        cam[...] = 0
        return cam, True
    cam -= low
    cam /= cam.max()
    return cam, False


def quantize_scoremap(scoremap: np.ndarray,
                      inplace: bool = False) -> np.ndarray:
    """``(s * 255)`` truncated to uint8 — the image the contours are found in
    (``inplace`` multiplies ``scoremap`` itself)."""
    if inplace:
        scoremap *= 255
        return scoremap.astype(np.uint8)
    return (scoremap * 255).astype(np.uint8)


def prepare_scoremap(value,
                     eval_hw: Tuple[int, int],
                     name: str = 'score map',
                     out: Optional[np.ndarray] = None,
                     normalize: bool = True) -> Tuple[np.ndarray, bool]:
    """Check, resize (bicubic, float64) and min-max normalise a score map:
    the map every protocol metric evaluates (``out``: a reusable (h, w)
    float64 buffer).

    With ``normalize=False`` the map must lie in ``[0, 1]`` without NaN
    before the resize (the reference's ``check_scoremap_validity``; anything
    else is an error), and the resized map is used as it is, except that the
    bicubic kernel's overshoot at sharp edges (a softmax map at 128 px
    resized to 224 reaches ~1.03) is clipped back to ``[0, 1]``: that
    excursion is an interpolation artefact, not a score.

    Returns:
        tuple: ``(normalised (h, w) float64 map, degenerate)``.
    """
    cam = as_score_map(value, name)
    if not normalize:
        low, high = float(np.min(cam)), float(np.max(cam))
        if np.isnan(low) or np.isnan(high) or low < 0 or high > 1:
            raise ValueError(
                f'{name}: with normalize=False the map must lie in [0, 1] '
                f'without NaN; got min {low}, max {high}')
    resized = resize_scoremap(cam, eval_hw, out)
    if normalize:
        return normalize_scoremap(resized, inplace=True)
    return np.clip(resized, 0.0, 1.0, out=resized), False


def threshold_levels(thresholds: np.ndarray, qmax: int) -> np.ndarray:
    """Integer threshold of the uint8 map at each ``tau``:
    ``int(tau * max(q))``; the foreground is ``q > level`` (strict)."""
    return (np.asarray(thresholds, np.float64) * float(qmax)).astype(np.int64)


# --------------------------------------------------------------------------
# Boxes
# --------------------------------------------------------------------------
def contour_boxes(binary: np.ndarray) -> Tuple[np.ndarray, int]:
    """All contours of a binary map as protocol boxes.

    Contours come from ``cv2.findContours(RETR_TREE, CHAIN_APPROX_SIMPLE)``
    (outer borders and hole borders). The box of a contour with bounding
    rectangle ``(x, y, w, h)`` is ``[x, y, min(x + w, W - 1),
    min(y + h, H - 1)]`` — one pixel larger than the contour on the right and
    bottom, the reference's convention.

    Returns:
        tuple: ``(boxes (n, 4) int64, index of the largest contour by
        cv2.contourArea (the first one on ties))``; ``([[0, 0, 0, 0]], 0)``
        when there is no contour.
    """
    height, width = binary.shape
    contours = cv2.findContours(
        np.ascontiguousarray(binary, dtype=np.uint8), cv2.RETR_TREE,
        cv2.CHAIN_APPROX_SIMPLE)[_CONTOUR_INDEX]
    if len(contours) == 0:
        return np.zeros((1, 4), np.int64), 0
    boxes = np.empty((len(contours), 4), np.int64)
    best, best_area = 0, -1.0
    for i, contour in enumerate(contours):
        x, y, w, h = cv2.boundingRect(contour)
        boxes[i] = (x, y, min(x + w, width - 1), min(y + h, height - 1))
        area = cv2.contourArea(contour)
        if area > best_area:  # strict: the first maximum wins, like max()
            best, best_area = i, area
    return boxes, best


def largest_box_at_threshold(norm_map: np.ndarray, tau: float) -> np.ndarray:
    """The MaxBoxAcc box of one min-max normalised map at threshold ``tau``:
    quantise to uint8, keep ``q > int(tau * max(q))``, box of the largest
    contour (``[0, 0, 0, 0]`` when there is none) — for drawing and
    inference; the metrics evaluate all thresholds at once."""
    quantized = quantize_scoremap(norm_map)
    level = threshold_levels(np.array([tau]), int(quantized.max()))[0]
    boxes, largest = contour_boxes((quantized > level).astype(np.uint8))
    return boxes[largest]


def check_boxes(boxes, name: str = 'boxes') -> np.ndarray:
    """``(n, 4)`` finite, non-negative ``x0, y0, x1, y1`` with ``x1 >= x0``
    and ``y1 >= y0`` (the reference's ``check_box_convention``), n >= 1."""
    arr = to_numpy(boxes, name)
    if arr.size == 0:
        raise ValueError(f'{name}: no box (an image needs at least one GT '
                         'box for box localization)')
    if arr.ndim == 1:
        arr = arr[None]
    if arr.ndim != 2 or arr.shape[1] != 4:
        raise ValueError(f'{name} must have shape (n, 4), got '
                         f'{tuple(arr.shape)}')
    arr = arr.astype(np.float64)
    if not np.isfinite(arr).all():
        raise ValueError(f'{name} holds a non-finite coordinate')
    if (arr < 0).any():
        raise ValueError(f'{name}: coordinates must be non-negative, got '
                         f'{arr.tolist()}')
    if (arr[:, 2] < arr[:, 0]).any() or (arr[:, 3] < arr[:, 1]).any():
        raise ValueError(f'{name} must follow x0, y0, x1, y1 with x1 >= x0 '
                         f'and y1 >= y0, got {arr.tolist()}')
    return arr


def rescale_boxes(boxes: np.ndarray, ori_hw: Tuple[int, int],
                  eval_hw: Tuple[int, int]) -> np.ndarray:
    """GT boxes from the original image to the evaluation frame.

    ``x' = int(x * W_eval / W)`` (and likewise for y), computed in float64 in
    that order and truncated, as the reference's ``resize_bbox``.
    """
    boxes = check_boxes(boxes, 'gt_bboxes')
    (h, w), (new_h, new_w) = ori_hw, eval_hw
    scale = np.array([new_w, new_h, new_w, new_h], np.float64)
    size = np.array([w, h, w, h], np.float64)
    return (boxes * scale / size).astype(np.int64)


def multiple_iou(boxes_a: np.ndarray, boxes_b: np.ndarray) -> np.ndarray:
    """IoU of every box of ``a`` with every box of ``b`` (inclusive pixel
    coordinates: a box ``[x0, y0, x1, y1]`` covers ``(x1 - x0 + 1) *
    (y1 - y0 + 1)`` pixels). A non-positive union gives 0.

    Returns:
        ndarray: ``(len(a), len(b))`` float64.
    """
    a = np.asarray(boxes_a, np.int64)[:, None, :]
    b = np.asarray(boxes_b, np.int64)[None, :, :]
    inter_w = np.maximum(
        0,
        np.minimum(a[..., 2], b[..., 2]) - np.maximum(a[..., 0], b[..., 0]) +
        1)
    inter_h = np.maximum(
        0,
        np.minimum(a[..., 3], b[..., 3]) - np.maximum(a[..., 1], b[..., 1]) +
        1)
    inter = inter_w * inter_h
    area_a = (a[..., 2] - a[..., 0] + 1) * (a[..., 3] - a[..., 1] + 1)
    area_b = (b[..., 2] - b[..., 0] + 1) * (b[..., 3] - b[..., 1] + 1)
    union = area_a + area_b - inter
    degenerate = union <= 0
    iou = inter / np.where(degenerate, 1, union)
    iou[degenerate] = 0
    return iou


def iou_thresholds_as_fractions(iou_thresholds: Sequence[int]) -> np.ndarray:
    """``[30, 50, 70]`` → ``[0.3, 0.5, 0.7]`` computed as ``t / 100`` (the
    reference's comparison ``iou >= t / 100``)."""
    return np.array([t / 100 for t in iou_thresholds], np.float64)


# --------------------------------------------------------------------------
# Pixel scores (PxAP and activation histograms)
# --------------------------------------------------------------------------
def histogram_bin_edges(thresholds: np.ndarray) -> np.ndarray:
    """Bin edges of the PxAP histograms: the thresholds + ``[1, 2, 3]``.

    Bins are ``[tau_0, tau_1), ..., [tau_last, 1), [1, 2), [2, 3]``.
    """
    return np.append(np.asarray(thresholds, np.float64), [1.0, 2.0, 3.0])


class NormalizedScoreBinner:
    """The ``np.histogram`` bin (edges :func:`histogram_bin_edges`) of each
    score of a min-max normalised map (scores in ``[0, 1]``), with reusable
    buffers: the protocol's per-image hot path.

    ``floor(s / step)`` is within one bin of the true one (the edges are
    ``i * step`` rounded once, the guess ``s * (1 / step)`` twice); one
    comparison with each neighbouring edge fixes it. A score of exactly 1
    lands in the ``[1, 2)`` bin, as in ``np.histogram``.

    Raises:
        ValueError: more than :data:`MAX_HISTOGRAM_THRESHOLDS` thresholds
            (a threshold step below ~1.526e-05), which
            :meth:`grouped_histograms` cannot index.
    """

    def __init__(self, thresholds: np.ndarray):
        thresholds = np.asarray(thresholds, np.float64)
        if len(thresholds) > MAX_HISTOGRAM_THRESHOLDS:
            step = float(thresholds[1] - thresholds[0])
            raise ValueError(
                f'{len(thresholds)} score thresholds (threshold step '
                f'{step:.6g}): the pixel histograms index at most '
                f'{MAX_HISTOGRAM_THRESHOLDS}; use a threshold step '
                '(cam_curve_interval) of at least 1/65535 (about '
                '1.526e-05)')
        self.edges = histogram_bin_edges(thresholds)
        self.n_bins = len(self.edges) - 1
        self.inner = len(thresholds)
        step = float(thresholds[1] - thresholds[0]) if self.inner > 1 else 1.
        self.scale = 1.0 / step
        self._ext = np.append(self.edges, np.inf)
        self._buffer = np.empty(0)

    def __call__(self, scores: np.ndarray) -> np.ndarray:
        s = np.ascontiguousarray(scores, dtype=np.float64).ravel()
        if self._buffer.size != s.size:
            self._buffer = np.empty(s.size)
        buf = self._buffer
        np.multiply(s, self.scale, out=buf)
        guess = buf.astype(np.int32)
        np.clip(guess, 0, self.inner - 1, out=guess)
        np.take(self._ext, guess, out=buf, mode='clip')
        guess -= s < buf
        np.take(self._ext, guess + 1, out=buf, mode='clip')
        guess += s >= buf
        return guess

    def grouped_histograms(self, scores: np.ndarray,
                           groups: np.ndarray, n_groups: int) -> np.ndarray:
        """``(n_groups, n_bins)`` int64 histograms of the scores of each
        group (uint8 labels ``0 .. n_groups - 1``, same shape as the scores).

        One unmasked 3-D ``cv2.calcHist`` over (group, bin // 256,
        bin % 256) in uint8: several times faster than ``np.bincount`` or a
        masked histogram. The bin of a score in ``[0, 1]`` is at most
        ``len(thresholds)`` (< 2^16, checked at construction), and the
        float32 counts of ``cv2.calcHist`` are exact up to 2^24: a map of
        more than :data:`MAX_HISTOGRAM_PIXELS` pixels is an error.
        """
        check_histogram_size(np.shape(scores))
        bins = self(scores)
        high = (bins >> 8).astype(np.uint8).reshape(np.shape(scores))
        low = (bins & 255).astype(np.uint8).reshape(np.shape(scores))
        n_high = (self.n_bins + 255) // 256
        hist = cv2.calcHist(
            [np.ascontiguousarray(groups, np.uint8), high, low], [0, 1, 2],
            None, [n_groups, n_high, 256], [0, n_groups, 0, n_high, 0, 256])
        hist = hist.reshape(n_groups, n_high * 256)[:, :self.n_bins]
        return hist.astype(np.int64)


def check_histogram_size(size_hw: Sequence[int],
                         option: str = 'eval_size') -> None:
    """Raise unless a map of ``size_hw`` pixels is counted exactly by the
    pixel histograms (at most :data:`MAX_HISTOGRAM_PIXELS`, the float32
    counts of ``cv2.calcHist``); ``option`` names the setting to change."""
    pixels = int(np.prod(size_hw, dtype=np.int64))
    if pixels > MAX_HISTOGRAM_PIXELS:
        raise ValueError(
            f'{option} {tuple(int(v) for v in size_hw)} has {pixels} pixels; '
            f'the pixel histograms count at most {MAX_HISTOGRAM_PIXELS} '
            '(2**24, where the float32 counts of cv2.calcHist stop being '
            f'exact) per map: use a smaller {option}')


def score_histogram(scores: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Reference: ``np.histogram(scores, bins=edges)[0]`` as int64 (the
    reference's per-image histogram; the metric uses
    :class:`NormalizedScoreBinner`, tested against this)."""
    scores = np.asarray(scores, np.float64).ravel()
    return np.histogram(scores, bins=edges)[0].astype(np.int64)


def pr_curve_from_histograms(pos_hist: np.ndarray,
                             neg_hist: np.ndarray) -> Dict[str, np.ndarray]:
    """Pixel precision/recall at every bin edge, from the pooled histograms.

    ``tp = cumsum(pos_hist[::-1])`` (pixels with ``s >= edge``, from the top
    edge down), ``fn = #pos - tp``, ``fp = cumsum(neg_hist[::-1])``;
    ``precision = tp / (tp + fp)``, ``recall = tp / (tp + fn)`` — the
    reference's ``MaskEvaluator.compute`` in float64.

    Returns:
        dict: ``tp, fp, fn, precision, recall, valid`` (``valid``: edges with
        at least one predicted positive pixel), index ``i`` ↔ threshold
        ``edges[len(edges) - 2 - i]``.

    Raises:
        RuntimeError: no positive pixel, or no pixel predicted positive.
    """
    pos = np.asarray(pos_hist, np.float64)
    neg = np.asarray(neg_hist, np.float64)
    num_pos = pos.sum()
    tp = pos[::-1].cumsum()
    fn = num_pos - tp
    fp = neg[::-1].cumsum()
    if ((tp + fn) <= 0).all():
        raise RuntimeError('PxAP: no object pixel in the evaluated split '
                           '(every GT mask is background or ignore); the '
                           'precision-recall curve is undefined')
    if ((tp + fp) <= 0).all():
        raise RuntimeError('PxAP: no pixel predicted positive at any '
                           'threshold (no scored pixel outside the ignore '
                           'regions)')
    valid = (tp + fp) != 0
    with np.errstate(divide='ignore', invalid='ignore'):
        precision = tp / (tp + fp)
        recall = tp / (tp + fn)
    return dict(tp=tp, fp=fp, fn=fn, precision=precision, recall=recall,
                valid=valid)


def pxap_from_curve(curve: Dict[str, np.ndarray]) -> float:
    """PxAP (%) = ``100 * sum_i precision_i * (recall_i - recall_{i-1})`` over
    the edges with a predicted positive (Choe et al. 2020, Sec. 4.2), the
    reference's summation, from :func:`pr_curve_from_histograms`' output."""
    precision, recall, valid = (curve['precision'], curve['recall'],
                                curve['valid'])
    with np.errstate(invalid='ignore'):
        terms = precision[1:] * np.diff(recall)
    auc = terms[valid[1:]].sum()
    return float(auc * 100)


def pxap_from_histograms(pos_hist: np.ndarray, neg_hist: np.ndarray) -> float:
    """PxAP (%) of the pooled histograms: :func:`pxap_from_curve` of
    :func:`pr_curve_from_histograms`."""
    return pxap_from_curve(pr_curve_from_histograms(pos_hist, neg_hist))


# --------------------------------------------------------------------------
# Masks
# --------------------------------------------------------------------------
def resize_mask_nearest(mask: np.ndarray,
                        size_hw: Tuple[int, int]) -> np.ndarray:
    """Nearest-neighbour resize (``cv2.INTER_NEAREST``) of a label map.

    The reference resizes each instance PNG and the ignore PNG separately
    with nearest interpolation, then ORs / masks them; nearest picks the same
    source pixel whatever the content, so resizing the merged map is the
    same.
    """
    h, w = size_hw
    return cv2.resize(
        np.ascontiguousarray(mask), (w, h), interpolation=cv2.INTER_NEAREST)


_VALID_LABEL = np.zeros(256, bool)
_VALID_LABEL[[MASK_BACKGROUND, MASK_OBJECT, MASK_IGNORE]] = True


def check_mask(mask, name: str = 'gt_mask') -> np.ndarray:
    """A 2-D merged GT mask (uint8) with labels 0 (background), 1 (object)
    and 255 (ignore) only."""
    arr = to_numpy(mask, name)
    if arr.ndim == 3 and arr.shape[0] == 1:
        arr = arr[0]
    if arr.ndim != 2 or arr.shape[0] < 1 or arr.shape[1] < 1:
        raise ValueError(f'{name} must be a non-empty 2-D (H, W) map, got '
                         f'shape {tuple(arr.shape)}')
    if arr.dtype != np.uint8:
        if not (np.issubdtype(arr.dtype, np.integer) or arr.dtype == np.bool_):
            if not np.array_equal(arr, np.round(arr)):
                raise ValueError(f'{name} must hold integer labels')
        if arr.size and (arr.min() < 0 or arr.max() > 255):
            raise ValueError(f'{name} must hold 0 (background), 1 (object) '
                             f'or 255 (ignore) only; found values outside '
                             f'0..255')
        arr = arr.astype(np.uint8)
    if not _VALID_LABEL[arr].all():
        bad = np.unique(arr[~_VALID_LABEL[arr]])[:10].tolist()
        raise ValueError(f'{name} must hold 0 (background), 1 (object) or '
                         f'255 (ignore) only; found {bad}')
    return arr


# --------------------------------------------------------------------------
# Classification
# --------------------------------------------------------------------------
def target_rank(scores, label: int) -> int:
    """Rank of the GT class in the scores sorted in descending order with a
    stable sort (ties: the lower class index first) — top-k correct iff
    ``rank < k``."""
    s = to_numpy(scores, 'pred_score').astype(np.float64).reshape(-1)
    if s.size == 0:
        raise ValueError('pred_score is empty')
    if not np.isfinite(s).all():
        raise ValueError('pred_score holds a non-finite value')
    if not 0 <= label < s.size:
        raise ValueError(f'gt_label {label} is outside the {s.size} scored '
                         'classes')
    target = s[label]
    return int((s > target).sum() + (s[:label] == target).sum())


def as_label(value, name: str = 'gt_label') -> int:
    """The single 0-based class index of a sample."""
    arr = to_numpy(value, name).reshape(-1)
    if arr.size != 1:
        raise ValueError(f'{name} must hold exactly one class index, got '
                         f'{arr.size} values')
    v = arr[0]
    if float(v) != int(v):
        raise ValueError(f'{name} must be an integer, got {v}')
    return int(v)
