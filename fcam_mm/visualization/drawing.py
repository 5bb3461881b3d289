"""Pixel-level drawing of WSOL maps: heat overlays, thresholded regions,
TP / FP / FN colouring, boxes and captions (RGB uint8 images, OpenCV)."""
from typing import Optional, Sequence, Tuple

import cv2
import numpy as np

from fcam_mm.evaluation.functional.wsol_protocol import (
    MASK_BACKGROUND, MASK_OBJECT, check_mask, prepare_scoremap,
    quantize_scoremap, threshold_levels)

#: Colours (RGB) of the paper's Fig. 3: GT box green, predicted box and
#: thresholded map red.
GT_COLOR = (0, 255, 0)
PRED_COLOR = (255, 0, 0)
#: Colours (RGB) of the paper's Fig. 4, per confusion label.
TP_COLOR = (255, 0, 0)
FP_COLOR = (0, 0, 255)
FN_COLOR = (0, 255, 0)

#: Lighter shades of the colours for legend words on the dark caption band
#: (pure blue text on black is unreadable).
LEGEND_COLORS = {PRED_COLOR: (255, 80, 80), FP_COLOR: (100, 160, 255),
                 FN_COLOR: (80, 255, 80)}

#: Confusion labels of :func:`confusion_labels`.
TN, TP, FP, FN, IGNORED = 0, 1, 2, 3, 4
CONFUSION_COLORS = {TP: TP_COLOR, FP: FP_COLOR, FN: FN_COLOR}


def line_width(height: int, width: int) -> int:
    """Box line width in pixels: 2 up to ~300 px images, then growing with
    the short side so boxes stay visible on large images."""
    return max(2, int(round(min(height, width) / 150)))


def normalized_map(score_map, height: int, width: int) -> np.ndarray:
    """The map as the protocol sees it, at the image size: bicubic resize
    and per-image min-max normalisation (all zeros when constant)."""
    return prepare_scoremap(score_map, (height, width))[0]


def heat_overlay(image: np.ndarray, norm_map: np.ndarray,
                 alpha: float = 0.5) -> np.ndarray:
    """Blend a normalised map (same size as ``image``) over an RGB image with
    OpenCV's jet colour map (blue = 0, red = 1)."""
    heat = cv2.applyColorMap(quantize_scoremap(norm_map), cv2.COLORMAP_JET)
    heat = cv2.cvtColor(heat, cv2.COLOR_BGR2RGB)
    blended = (1 - alpha) * image.astype(np.float32) + alpha * heat
    return blended.clip(0, 255).astype(np.uint8)


def overlay_map(image: np.ndarray, score_map, alpha: float = 0.5):
    """Blend a map, resized to the image and min-max normalised as the
    protocol evaluates it, over an RGB image (jet). Returns the blended
    image and the normalised map."""
    norm = normalized_map(score_map, *image.shape[:2])
    return heat_overlay(image, norm, alpha), norm


def box_foreground(norm_map: np.ndarray, tau: float) -> np.ndarray:
    """The region the MaxBoxAcc box is taken from at ``tau``: the map
    quantised to uint8, ``q > int(tau * max(q))`` (strict), as in
    ``wsol_protocol.largest_box_at_threshold``."""
    quantized = quantize_scoremap(norm_map)
    level = threshold_levels(np.array([tau]), int(quantized.max()))[0]
    return quantized > level


def pixel_foreground(norm_map: np.ndarray, tau: float) -> np.ndarray:
    """The PxAP foreground at ``tau``: ``s >= tau`` on the float scores."""
    return norm_map >= tau


def confusion_labels(pred: np.ndarray, gt_mask) -> np.ndarray:
    """Per-pixel TP / FP / FN / TN of a predicted foreground against a GT
    mask (1 object, 0 background, 255 ignore), both (H, W).

    Returns a uint8 map of :data:`TN`, :data:`TP`, :data:`FP`, :data:`FN`
    and :data:`IGNORED` (ignore pixels, uncounted by PxAP).
    """
    gt = check_mask(gt_mask, 'gt_mask')
    pred = np.asarray(pred, bool)
    if pred.shape != gt.shape:
        raise ValueError(f'the predicted foreground is {pred.shape} but the '
                         f'GT mask is {gt.shape}')
    labels = np.full(gt.shape, IGNORED, np.uint8)
    obj, bg = gt == MASK_OBJECT, gt == MASK_BACKGROUND
    labels[obj & pred] = TP
    labels[obj & ~pred] = FN
    labels[bg & pred] = FP
    labels[bg & ~pred] = TN
    return labels


def paint_labels(image: np.ndarray, labels: np.ndarray, colors: dict,
                 alpha: float = 0.55) -> np.ndarray:
    """Tint the pixels of each label in ``colors`` (label -> RGB) with that
    colour, blended with weight ``alpha``; other pixels are unchanged."""
    out = image.astype(np.float32)
    for label, color in colors.items():
        where = labels == label
        out[where] = (1 - alpha) * out[where] + alpha * np.array(
            color, np.float32)
    return out.clip(0, 255).astype(np.uint8)


def draw_boxes(image: np.ndarray, boxes, color: Tuple[int, int, int],
               thickness: int) -> np.ndarray:
    """Draw boxes ``x0, y0, x1, y1`` with inclusive pixel coordinates: the
    outline covers the box's own border pixels and grows inwards, so it
    never leaves the box (nor the image)."""
    out = np.ascontiguousarray(image)
    for x0, y0, x1, y1 in np.asarray(boxes, np.float64).reshape(-1, 4):
        x0, y0, x1, y1 = (int(round(v)) for v in (x0, y0, x1, y1))
        for k in range(thickness):
            if x1 - x0 < 2 * k or y1 - y0 < 2 * k:
                break
            cv2.rectangle(out, (x0 + k, y0 + k), (x1 - k, y1 - k), color, 1)
    return out


def caption_scale(height: int, width: int) -> float:
    """OpenCV font scale of the captions of an (H, W) panel: about 10 px
    high text on small images, growing with the short side."""
    return max(0.4, min(height, width) / 400)


def draw_caption(image: np.ndarray,
                 parts: Sequence[Tuple[str, Tuple[int, int, int]]],
                 corner: str = 'top',
                 max_scale: Optional[float] = None) -> np.ndarray:
    """Write coloured words (``(text, rgb)`` pairs, joined by spaces) on a
    dark band at the top or bottom-left of the image; the text shrinks to
    fit the image width. ``max_scale``: the font scale before shrinking
    (default :func:`caption_scale` of the image)."""
    out = np.ascontiguousarray(image)
    height, width = out.shape[:2]
    text = ' '.join(p for p, _ in parts)
    font = cv2.FONT_HERSHEY_SIMPLEX
    scale = max_scale or caption_scale(height, width)
    (tw, th), base = cv2.getTextSize(text, font, scale, 1)
    if tw > width - 6:
        scale *= (width - 6) / tw
        (tw, th), base = cv2.getTextSize(text, font, scale, 1)
    pad = max(2, th // 3)
    band_h = th + base + 2 * pad
    y0 = 0 if corner == 'top' else height - band_h
    band = out[y0:y0 + band_h, :tw + 2 * pad].astype(np.float32)
    out[y0:y0 + band_h, :tw + 2 * pad] = (band * 0.35).astype(np.uint8)
    x = pad
    for word, color in parts:
        color = LEGEND_COLORS.get(tuple(color), color)
        cv2.putText(out, word, (x, y0 + pad + th), font, scale, color, 1,
                    cv2.LINE_AA)
        x += cv2.getTextSize(word + ' ', font, scale, 1)[0][0]
    return out


def outline_mask(image: np.ndarray, mask: np.ndarray,
                 color: Tuple[int, int, int], thickness: int = 1
                 ) -> np.ndarray:
    """Draw the outer contours of a binary mask."""
    out = np.ascontiguousarray(image)
    contours = cv2.findContours(
        np.asarray(mask, np.uint8), cv2.RETR_EXTERNAL,
        cv2.CHAIN_APPROX_NONE)[-2]
    cv2.drawContours(out, contours, -1, color, thickness)
    return out
