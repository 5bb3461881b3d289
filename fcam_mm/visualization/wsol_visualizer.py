"""Panels of localization maps with their ground truth, for people to look
at (the layout of the paper's Fig. 3 and Fig. 4)."""
from numbers import Real
from typing import Dict, Mapping, Optional, Sequence, Union

import mmcv
import numpy as np
from mmengine.visualization import Visualizer

from fcam_mm.evaluation.functional.wsol_protocol import (
    check_boxes, largest_box_at_threshold, multiple_iou, target_rank,
    to_numpy)
from fcam_mm.registry import VISUALIZERS
from .drawing import (CONFUSION_COLORS, FN, FN_COLOR, FP, FP_COLOR, GT_COLOR,
                      PRED_COLOR, TP, TP_COLOR, box_foreground,
                      caption_scale, confusion_labels, draw_boxes,
                      draw_caption,
                      heat_overlay, line_width, normalized_map, outline_mask,
                      paint_labels, pixel_foreground)

STYLES = ('auto', 'box', 'mask')
WHITE = (255, 255, 255)
Thresholds = Union[None, float, Mapping[str, Optional[float]]]


def _has(sample, key: str) -> bool:
    return key in sample and sample.get(key) is not None


def resolve_style(sample, style: str = 'auto') -> str:
    """``'box'`` or ``'mask'`` for one sample: ``auto`` is the box style
    (Fig. 3) unless the sample has a GT mask and no GT box (Fig. 4)."""
    if style not in STYLES:
        raise ValueError(f'style must be one of {STYLES}, got {style!r}')
    if style == 'auto':
        return ('mask' if _has(sample, 'gt_mask')
                and not _has(sample, 'gt_bboxes') else 'box')
    return style


def threshold_of(thresholds: Thresholds, key: str) -> Optional[float]:
    """The tau of map ``key``: one float for every map, or a per-key dict
    (a missing key: no tau)."""
    if thresholds is None:
        return None
    if isinstance(thresholds, Mapping):
        tau = thresholds.get(key)
    else:
        tau = thresholds
    if tau is None:
        return None
    if not isinstance(tau, Real) or not 0 <= float(tau) < 1:
        raise ValueError(f'the threshold of {key!r} must be a number in '
                         f'[0, 1), got {tau!r}')
    return float(tau)


@VISUALIZERS.register_module()
class WSOLVisualizer(Visualizer):
    """One row per map (e.g. the classifier's CAM, then the F-CAM map), two
    panels per row, each the size of the original image:

    1. the map (bicubic to the image, min-max normalised as the protocol
       evaluates it) over the image, jet colours;
    2. its localization at tau:

       * ``box`` style (Fig. 3): the region the MaxBoxAcc box is taken from
         (``q > int(tau * max(q))`` on the uint8 map) tinted red, the box of
         its largest contour in red, the GT boxes in green, and the best IoU
         of the predicted box with a GT box;
       * ``mask`` style (Fig. 4): the PxAP foreground ``s >= tau`` against
         the GT mask — true positives red, false positives blue, false
         negatives green (ignore pixels untouched) — and the pixel IoU
         ``TP / (TP + FP + FN)``;
       * without a tau: the image with its GT (boxes, mask outline).

    Args:
        alpha (float): weight of the heat map over the image.
        map_names (dict, optional): panel titles of the map keys.
        Other arguments: :class:`mmengine.visualization.Visualizer`.
    """

    default_map_names = {'cam': 'CAM', 'fcam': 'F-CAM'}

    def __init__(self,
                 name: str = 'visualizer',
                 image: Optional[np.ndarray] = None,
                 vis_backends=None,
                 save_dir: Optional[str] = None,
                 alpha: float = 0.5,
                 map_names: Optional[Dict[str, str]] = None,
                 **kwargs) -> None:
        super().__init__(name=name, image=image, vis_backends=vis_backends,
                         save_dir=save_dir, **kwargs)
        if not 0 <= alpha <= 1:
            raise ValueError(f'alpha must be in [0, 1], got {alpha}')
        self.alpha = alpha
        self.map_names = dict(self.default_map_names, **(map_names or {}))

    # ------------------------------------------------------------------
    def _class_name(self, label: int) -> str:
        classes = (self.dataset_meta or {}).get('classes')
        if classes is not None and 0 <= label < len(classes):
            return str(classes[label])
        return f'class {label}'

    def _prediction_caption(self, sample):
        if not _has(sample, 'pred_score'):
            return None
        scores = to_numpy(sample.get('pred_score'), 'pred_score').reshape(-1)
        label = int(np.argmax(scores))
        parts = [(f'pred: {self._class_name(label)} {scores[label]:.2f}',
                  WHITE)]
        if _has(sample, 'gt_label'):
            gt = int(to_numpy(sample.get('gt_label'), 'gt_label').reshape(-1)
                     [0])
            if target_rank(scores, gt) != 0:
                parts.append((f'(GT: {self._class_name(gt)})', (255, 96, 96)))
        return parts

    def _gt_boxes(self, sample) -> Optional[np.ndarray]:
        if not _has(sample, 'gt_bboxes'):
            return None
        return check_boxes(sample.get('gt_bboxes'), 'gt_bboxes')

    def _localization_panel(self, image, norm, sample, tau, style):
        height, width = image.shape[:2]
        width_px = line_width(height, width)
        gt_boxes = self._gt_boxes(sample)
        if tau is None:
            panel = image.copy()
            caption = []
            if gt_boxes is not None:
                panel = draw_boxes(panel, gt_boxes, GT_COLOR, width_px)
                caption.append(('GT box', GT_COLOR))
            if _has(sample, 'gt_mask'):
                objects = to_numpy(sample.get('gt_mask'), 'gt_mask') == 1
                panel = outline_mask(panel, objects, GT_COLOR)
                caption.append(('GT mask', GT_COLOR))
            return panel, caption or [('image', WHITE)]
        caption = [(f'tau={tau:.3f}', WHITE)]
        if style == 'mask':
            if not _has(sample, 'gt_mask'):
                raise KeyError('the mask style needs a GT mask (gt_mask) in '
                               'the data sample; use the box style for '
                               'images without one')
            labels = confusion_labels(pixel_foreground(norm, tau),
                                      sample.get('gt_mask'))
            panel = paint_labels(image, labels, CONFUSION_COLORS)
            counts = np.bincount(labels.ravel(), minlength=5)
            union = counts[TP] + counts[FP] + counts[FN]
            iou = counts[TP] / union if union else 0.0
            caption += [('TP', TP_COLOR), ('FP', FP_COLOR), ('FN', FN_COLOR),
                        (f'IoU {iou:.2f}', WHITE)]
            return panel, caption
        region = box_foreground(norm, tau).astype(np.uint8)
        panel = paint_labels(image, region, {1: PRED_COLOR}, alpha=0.35)
        box = largest_box_at_threshold(norm, tau)
        if gt_boxes is not None:
            panel = draw_boxes(panel, gt_boxes, GT_COLOR, width_px)
            caption.append(('GT', GT_COLOR))
        panel = draw_boxes(panel, box[None], PRED_COLOR, width_px)
        caption.append(('pred', PRED_COLOR))
        if gt_boxes is not None:
            iou = multiple_iou(box[None], gt_boxes).max()
            caption.append((f'IoU {iou:.2f}', WHITE))
        return panel, caption

    def draw_panels(self,
                    image: np.ndarray,
                    data_sample,
                    map_keys: Sequence[str] = ('cam', 'fcam'),
                    thresholds: Thresholds = None,
                    style: str = 'auto') -> np.ndarray:
        """The canvas (RGB uint8, ``(n_maps * H, 2 * W, 3)``) for one image.

        Args:
            image: the original RGB image (H, W, 3).
            data_sample: a data sample (or dict) with the maps under
                ``map_keys`` and optionally ``gt_bboxes`` (original-image
                inclusive boxes), ``gt_mask``, ``pred_score``, ``gt_label``.
            map_keys: maps to show, one row each; keys the sample lacks are
                left out (at least one must be there).
            thresholds: tau for every map, a per-key dict, or None.
            style: ``'auto'``, ``'box'`` or ``'mask'``.
        """
        image = np.ascontiguousarray(image)
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            raise ValueError('image must be an (H, W, 3) uint8 RGB array, got '
                             f'{image.shape} {image.dtype}')
        height, width = image.shape[:2]
        style = resolve_style(data_sample, style)
        keys = [k for k in map_keys if _has(data_sample, k)]
        if not keys:
            raise KeyError(f'none of the maps {tuple(map_keys)} is in the data '
                           f'sample (keys: {sorted(data_sample.keys())})')
        rows = []
        for key in keys:
            norm = normalized_map(data_sample.get(key), height, width)
            heat = heat_overlay(image, norm, self.alpha)
            heat = draw_caption(heat, [(self.map_names.get(key, key), WHITE)])
            loc, caption = self._localization_panel(
                image, norm, data_sample, threshold_of(thresholds, key), style)
            loc = draw_caption(loc, caption)
            rows.append(np.concatenate([heat, loc], axis=1))
        canvas = np.concatenate(rows, axis=0)
        pred = self._prediction_caption(data_sample)
        if pred:  # the width of both panels: class names are long
            canvas = draw_caption(canvas, pred, corner='bottom',
                                  max_scale=caption_scale(height, width))
        return canvas

    def add_datasample(self,
                       name: str,
                       image: np.ndarray,
                       data_sample,
                       map_keys: Sequence[str] = ('cam', 'fcam'),
                       thresholds: Thresholds = None,
                       style: str = 'auto',
                       show: bool = False,
                       out_file: Optional[str] = None,
                       step: int = 0) -> np.ndarray:
        """Draw :meth:`draw_panels` and write it to ``out_file`` (PNG), or to
        the visualizer's backends (local files, TensorBoard, ...) under
        ``name``; returns the canvas."""
        canvas = self.draw_panels(image, data_sample, map_keys, thresholds,
                                  style)
        if show:
            self.show(canvas, win_name=name)
        if out_file is not None:
            mmcv.imwrite(mmcv.rgb2bgr(canvas), out_file)
        else:
            self.add_image(name.replace('/', '__'), canvas, step)
        return canvas
