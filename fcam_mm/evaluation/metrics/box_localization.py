"""MaxBoxAcc, MaxBoxAccV2, top-1/top-5 localization and GT-known accuracy."""
from typing import Dict, Optional, Sequence, Union

import cv2
import numpy as np

from fcam_mm.registry import METRICS
from ..functional.level_set_boxes import (NUM_LEVELS, boxes_at_all_levels,
                                          check_level_set_size)
from ..functional.wsol_protocol import (CAM_CURVE_INTERVAL, EVAL_SIZE,
                                        IOU_THRESHOLDS, as_hw, as_label,
                                        cam_threshold_list, contour_boxes,
                                        iou_thresholds_as_fractions,
                                        multiple_iou, parse_eval_size,
                                        prepare_scoremap, quantize_scoremap,
                                        rescale_boxes, target_rank,
                                        threshold_levels)
from .wsol_base_metric import WSOLBaseMetric, as_sample_list, get_sample_key


def boxes_by_contours_per_level(quantized: np.ndarray):
    """The boxes of :func:`boxes_at_all_levels` with one
    ``cv2.findContours`` per distinct foreground (``q > t``, t = 0..254):
    the plain de-duplicated protocol, kept as an alternative algorithm.

    Returns:
        tuple: ``(largest (255, 4), all_boxes (M, 4), all_levels (M,),
        num_traced)`` — the first three as in :func:`boxes_at_all_levels`
        (the same largest box and the same set of boxes at each level; a
        box may be listed a different number of times), and
        ``num_traced`` the number of distinct foregrounds handed to
        ``cv2.findContours``, the empty one (levels >= max(q)) included
        when it occurs — not the number of levels the level-set algorithm
        traced.
    """
    largest = np.zeros((NUM_LEVELS, 4), np.int64)
    boxes_all, levels_all = [], []
    binary_cache = {}
    values = np.unique(quantized)
    for t in range(NUM_LEVELS):
        # q > t changes only when t crosses a value present in q
        key = int(values[np.searchsorted(values, t, side='right')]) \
            if t < values[-1] else None
        if key not in binary_cache:
            binary_cache[key] = contour_boxes((quantized > t).view(np.uint8))
        boxes, best = binary_cache[key]
        largest[t] = boxes[best]
        boxes_all.append(boxes)
        levels_all.append(np.full(len(boxes), t))
    return (largest, np.concatenate(boxes_all), np.concatenate(levels_all),
            len(binary_cache))


_ALGORITHMS = dict(level_sets=boxes_at_all_levels,
                   contours=boxes_by_contours_per_level)


@METRICS.register_module()
class BoxLocalizationMetric(WSOLBaseMetric):
    """Box localization of WSOL score maps (Choe et al., CVPR 2020).

    One pass over the split gives, for every threshold ``tau`` of the
    protocol, the number of images whose box is correct:

    * ``MaxBoxAcc``: the box of the largest contour, correct at IoU >= 0.5
      with one of the GT boxes; the metric is the best accuracy over tau,
      ``best_tau`` the first tau that reaches it.
    * ``MaxBoxAccV2@{30,50,70}``: the boxes of all contours (holes included)
      at IoU >= 0.3 / 0.5 / 0.7, each with its own ``best_tau_V2@..``;
      ``MaxBoxAccV2`` is their mean.
    * ``top1_loc`` / ``top5_loc``: correct box (MaxBoxAcc setting) at its
      ``best_tau`` AND the GT class in the top-1 / top-5 classes of
      ``pred_score``; ``top1_loc_V2`` / ``top5_loc_V2`` the same with all
      contours at IoU 0.5 and ``best_tau_V2@50``.
    * ``gt_known``: GT-known localization, the box accuracy regardless of
      the class at ``best_tau`` — by definition equal to ``MaxBoxAcc`` under
      this protocol (the CAM of the GT class, the best tau), reported under
      its usual name.

    All in %. The map is the one of the GT class under ``map_key`` (any
    resolution), resized to ``eval_size`` with bicubic interpolation and
    min-max normalised; GT boxes (``gt_bboxes``, original-image inclusive
    ``x0, y0, x1, y1``) are rescaled from ``ori_shape`` by truncation. See
    docs/metrics.md for every convention, including the reference's boxes
    being one pixel larger than their contour on the right and bottom.

    Memory: the running sums (a few (n_tau,) int64 arrays per rank) plus the
    statistics of the most recent sample — constant in the number of images.

    Args:
        map_key (str): data-sample key of the score map. Defaults to 'cam'.
        eval_size (int | tuple): evaluation frame, ``224`` or ``(h, w)``;
            ``2·(h+1)·(w+1)`` at most 2**24 (about 2895², exact float32
            level-set counts).
        cam_curve_interval (float): threshold step. Defaults to 0.001.
        normalize (bool): per-image min-max normalisation (the protocol,
            default). ``False`` evaluates maps already in ``[0, 1]`` as they
            are (e.g. F-CAM's softmax maps, as the F-CAM authors' code does);
            a map outside ``[0, 1]`` is then an error.
        iou_threshold (int): IoU (%) of MaxBoxAcc. Defaults to 50.
        iou_thresholds (sequence of int): IoUs (%) of MaxBoxAccV2.
        topk (sequence of int): top-k localization to report; ``()`` when the
            samples carry no ``pred_score`` (a model without a classifier):
            the ``top{k}_loc`` keys are then absent, not zero, and a sample
            without ``pred_score`` under a non-empty ``topk`` is an error.
        box_algorithm (str): ``'level_sets'`` (default; all thresholds at
            once from the component trees) or ``'contours'`` (one
            ``cv2.findContours`` per distinct foreground). Same results.
        collect_curves (bool): keep the accuracy-vs-tau curves and the
            histograms of the quantised maps (every pixel, and the pixels
            inside / outside the union of the GT boxes) in ``self.curves``.
        out_dir (str, optional): also write them to
            ``{out_dir}/{prefix}_box_curves.npz``.
        prefix (str, optional): defaults to ``'loc'``.
    """
    curves_name = 'box_curves'
    default_prefix: Optional[str] = 'loc'

    def __init__(self,
                 map_key: str = 'cam',
                 eval_size: Union[int, Sequence[int]] = EVAL_SIZE,
                 cam_curve_interval: float = CAM_CURVE_INTERVAL,
                 normalize: bool = True,
                 iou_threshold: int = 50,
                 iou_thresholds: Sequence[int] = IOU_THRESHOLDS,
                 topk: Sequence[int] = (1, 5),
                 box_algorithm: str = 'level_sets',
                 collect_curves: bool = True,
                 out_dir: Optional[str] = None,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_curves=collect_curves, out_dir=out_dir,
                         collect_device=collect_device, prefix=prefix)
        self.map_key = map_key
        self.normalize = normalize
        self.eval_hw = parse_eval_size(eval_size)
        check_level_set_size(self.eval_hw, 'eval_size')
        self.thresholds = cam_threshold_list(cam_curve_interval)
        self._map_buffer = np.empty(self.eval_hw)  # reused every sample
        ious = [int(iou_threshold)] + [int(t) for t in iou_thresholds]
        if not all(0 < t <= 100 for t in ious):
            raise ValueError(f'IoU thresholds are percentages in (0, 100], '
                             f'got {ious}')
        self.iou_threshold = int(iou_threshold)
        self.iou_thresholds = tuple(int(t) for t in iou_thresholds)
        if len(self.iou_thresholds) == 0:
            raise ValueError('iou_thresholds must not be empty')
        self.topk = tuple(int(k) for k in topk)
        if any(k < 1 for k in self.topk):
            raise ValueError(f'topk must be positive, got {topk}')
        if box_algorithm not in _ALGORITHMS:
            raise ValueError(f'box_algorithm must be one of '
                             f'{sorted(_ALGORITHMS)}, got {box_algorithm!r}')
        self.box_algorithm = box_algorithm
        # modes: 0 = MaxBoxAcc (largest contour), 1.. = V2 per IoU level
        self._fractions = iou_thresholds_as_fractions(
            (self.iou_threshold, ) + self.iou_thresholds)
        self._levels_of_max = {}  # qmax -> uint8 level of every tau

    # ------------------------------------------------------------------
    def _levels(self, qmax: int) -> np.ndarray:
        levels = self._levels_of_max.get(qmax)
        if levels is None:
            # every tau < 1, so int(tau * qmax) <= qmax - 1 <= 254: a valid
            # level (qmax == 0 gives level 0, empty like the map)
            levels = threshold_levels(self.thresholds, qmax)
            self._levels_of_max[qmax] = levels
        return levels

    def _zero_sums(self) -> Dict[str, np.ndarray]:
        n_modes, n_tau = len(self._fractions), len(self.thresholds)
        sums = dict(
            correct=np.zeros((n_modes, n_tau), np.int64),
            num=np.zeros(1, np.int64),
            degenerate=np.zeros(1, np.int64),
            quantized_hist=np.zeros(256, np.int64),
            quantized_hist_in_box=np.zeros(256, np.int64))
        for k in self.topk:
            sums[f'top{k}'] = np.zeros((n_modes, n_tau), np.int64)
        return sums

    def _add_stats(self, sums, stats) -> None:
        correct = stats['correct'][:, stats['levels']]  # (modes, n_tau)
        sums['correct'] += correct
        for k in self.topk:
            if stats['rank'] < k:
                sums[f'top{k}'] += correct
        sums['num'] += 1
        sums['degenerate'] += stats['degenerate']
        if stats['hist'] is not None:
            sums['quantized_hist'] += stats['hist']
            sums['quantized_hist_in_box'] += stats['hist_in_box']

    def sample_stats(self, sample: dict) -> dict:
        """The statistics of one data sample (public for tools/tests)."""
        name = self.__class__.__name__
        scoremap, degenerate = prepare_scoremap(
            get_sample_key(sample, self.map_key, name), self.eval_hw,
            f'{name}: {self.map_key!r}', out=self._map_buffer,
            normalize=self.normalize)
        quantized = quantize_scoremap(scoremap, inplace=True)
        ori_hw = as_hw(get_sample_key(sample, 'ori_shape', name))
        gt = rescale_boxes(
            get_sample_key(sample, 'gt_bboxes', name), ori_hw, self.eval_hw)
        largest, all_boxes, all_levels, _ = _ALGORITHMS[self.box_algorithm](
            quantized)
        iou_largest = multiple_iou(largest, gt).max(axis=1)
        iou_all = multiple_iou(all_boxes, gt).max(axis=1)
        starts = np.flatnonzero(np.r_[True, all_levels[1:] !=
                                      all_levels[:-1]])
        iou_all = np.maximum.reduceat(iou_all, starts)  # (255,)
        correct = np.empty((len(self._fractions), NUM_LEVELS), bool)
        correct[0] = iou_largest >= self._fractions[0]
        correct[1:] = iou_all[None, :] >= self._fractions[1:, None]
        rank = 0
        if self.topk:
            if 'pred_score' not in sample:
                # a map without a classifier (e.g. the centre Gaussian) has
                # no top-k localization; never score it as if it had one
                raise KeyError(
                    f'{name}: the data sample has no \'pred_score\', which '
                    f'top-k localization (topk={self.topk}) needs; for a '
                    'model without a classifier (e.g. '
                    'CenterGaussianLocalizer) set topk=() to report the '
                    'GT-known box accuracies only')
            label = as_label(get_sample_key(sample, 'gt_label', name))
            rank = target_rank(
                get_sample_key(sample, 'pred_score', name), label)
        hist = hist_in_box = None
        if self.collect_curves:
            hist = cv2.calcHist([quantized], [0], None, [256],
                                [0, 256]).ravel().astype(np.int64)
            # Fig. 6 split by the union of the GT boxes (inclusive corners)
            in_box = np.zeros(quantized.shape, np.uint8)
            for x0, y0, x1, y1 in gt:
                in_box[y0:y1 + 1, x0:x1 + 1] = 1
            hist_in_box = cv2.calcHist([quantized], [0], in_box, [256],
                                       [0, 256]).ravel().astype(np.int64)
        return dict(correct=correct, levels=self._levels(int(quantized.max())),
                    rank=rank, degenerate=int(degenerate), hist=hist,
                    hist_in_box=hist_in_box)

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        """Turn each sample into its sufficient statistics."""
        for sample in as_sample_list(data_samples):
            self._push(self.sample_stats(sample))

    def compute_metrics(self, results: Dict[str, np.ndarray]) -> dict:
        num = float(results['num'][0])
        accuracy = results['correct'] * 100. / num  # (modes, n_tau)
        best = [int(np.argmax(acc)) for acc in accuracy]
        metrics = {'MaxBoxAcc': float(accuracy[0].max())}
        v2 = [float(accuracy[i].max()) for i in range(1, len(accuracy))]
        metrics['MaxBoxAccV2'] = float(np.average(v2))
        for t, value in zip(self.iou_thresholds, v2):
            metrics[f'MaxBoxAccV2@{t}'] = value
        metrics['best_tau'] = float(self.thresholds[best[0]])
        for i, t in enumerate(self.iou_thresholds, start=1):
            metrics[f'best_tau_V2@{t}'] = float(self.thresholds[best[i]])
        # top-k localization at the chosen tau: MaxBoxAcc setting, and all
        # contours at the MaxBoxAcc IoU when it is one of the V2 levels
        v2_same_iou = (self.iou_thresholds.index(self.iou_threshold) + 1
                       if self.iou_threshold in self.iou_thresholds else None)
        for k in self.topk:
            top = results[f'top{k}'] * 100. / num
            metrics[f'top{k}_loc'] = float(top[0, best[0]])
            if v2_same_iou is not None:
                metrics[f'top{k}_loc_V2'] = float(
                    top[v2_same_iou, best[v2_same_iou]])
        metrics['gt_known'] = float(accuracy[0, best[0]])
        if results['degenerate'][0]:
            self._warn(f'{self.__class__.__name__}: '
                       f'{int(results["degenerate"][0])} of {int(num)} maps '
                       'were constant or held a NaN and were evaluated as '
                       'all-zero maps (the protocol\'s defined result)')
        if self.collect_curves:
            curves = dict(
                thresholds=self.thresholds,
                accuracy=accuracy[0],
                quantized_hist=results['quantized_hist'],
                quantized_hist_in_box=results['quantized_hist_in_box'],
                quantized_hist_out_box=(results['quantized_hist'] -
                                        results['quantized_hist_in_box']),
                num_images=results['num'],
                num_degenerate=results['degenerate'])
            for i, t in enumerate(self.iou_thresholds, start=1):
                curves[f'accuracy_V2@{t}'] = accuracy[i]
            for k in self.topk:
                top = results[f'top{k}'] * 100. / num
                curves[f'top{k}_loc'] = top[0]
                for i, t in enumerate(self.iou_thresholds, start=1):
                    curves[f'top{k}_loc_V2@{t}'] = top[i]
            self.curves = curves
        return metrics
