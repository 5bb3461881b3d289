"""PxAP: pixel average precision of WSOL score maps (Choe et al. 2020)."""
from typing import Dict, Optional, Sequence, Union

import numpy as np

from fcam_mm.registry import METRICS
from ..functional.wsol_protocol import (CAM_CURVE_INTERVAL, EVAL_SIZE,
                                        MASK_BACKGROUND, MASK_OBJECT, as_hw,
                                        cam_threshold_list,
                                        check_histogram_size, check_mask,
                                        histogram_bin_edges,
                                        parse_eval_size, prepare_scoremap,
                                        pr_curve_from_histograms,
                                        pxap_from_curve,
                                        resize_mask_nearest,
                                        NormalizedScoreBinner)
from .wsol_base_metric import WSOLBaseMetric, as_sample_list, get_sample_key


_GROUP = np.full(256, 2, np.uint8)  # every other label is ignore
_GROUP[MASK_OBJECT] = 0
_GROUP[MASK_BACKGROUND] = 1


@METRICS.register_module()
class PixelLocalizationMetric(WSOLBaseMetric):
    """PxAP, the precision-recall curve and the best-F1 threshold.

    For every image: the score map of the GT class (``map_key``) is resized
    to ``eval_size`` (bicubic) and min-max normalised; the GT mask
    (``gt_mask``, original resolution, 1 = object, 0 = background,
    255 = ignore) is resized with nearest interpolation. The float scores of
    the object and background pixels (ignore pixels dropped) are counted in
    the bins ``[tau_0, tau_1), ..., [tau_last, 1), [1, 2), [2, 3]`` — two
    histograms summed over the split (micro average). A pixel is predicted
    positive at ``tau`` when its score is ``>= tau``; precision and recall
    come from the reversed cumulative sums and

        PxAP = 100 * sum_i precision_i * (recall_i - recall_{i-1})

    exactly as the reference ``MaskEvaluator``. Also reported: ``best_f1``
    (%), the best F1 = 2PR / (P + R) over the thresholds tau, and
    ``best_f1_tau``, the first tau that reaches it (named apart from the
    box metric's ``best_tau`` so both can share a prefix).

    A split without any object pixel has no PR curve: evaluate raises.

    Memory: two (n_tau + 2,) int64 histograms per rank (three with
    ``collect_curves``), constant in the number of images.

    Args:
        map_key (str): data-sample key of the score map. Defaults to 'cam'.
        eval_size (int | tuple): evaluation frame, ``224`` or ``(h, w)``;
            at most 2**24 pixels (exact histogram counts).
        cam_curve_interval (float): threshold step. Defaults to 0.001; at
            least 1/65535 (at most 65,535 histogram thresholds).
        normalize (bool): per-image min-max normalisation (the protocol,
            default). ``False`` evaluates maps already in ``[0, 1]`` as they
            are (e.g. F-CAM's softmax maps, as the F-CAM authors' code does);
            a map outside ``[0, 1]`` is then an error.
        collect_curves (bool): keep the PR curve and the histograms of the
            normalised scores (object, background, every pixel) in
            ``self.curves``.
        out_dir (str, optional): also write them to
            ``{out_dir}/{prefix}_pixel_curves.npz``.
        prefix (str, optional): defaults to ``'pxap'``.
    """
    curves_name = 'pixel_curves'
    default_prefix: Optional[str] = 'pxap'

    def __init__(self,
                 map_key: str = 'cam',
                 eval_size: Union[int, Sequence[int]] = EVAL_SIZE,
                 cam_curve_interval: float = CAM_CURVE_INTERVAL,
                 normalize: bool = True,
                 collect_curves: bool = True,
                 out_dir: Optional[str] = None,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_curves=collect_curves, out_dir=out_dir,
                         collect_device=collect_device, prefix=prefix)
        self.map_key = map_key
        self.normalize = normalize
        self.eval_hw = parse_eval_size(eval_size)
        check_histogram_size(self.eval_hw, 'eval_size')
        self.thresholds = cam_threshold_list(cam_curve_interval)
        self._binner = NormalizedScoreBinner(self.thresholds)
        self._map_buffer = np.empty(self.eval_hw)  # reused every sample
        self.edges = histogram_bin_edges(self.thresholds)
        self._n_bins = len(self.edges) - 1

    def _zero_sums(self) -> Dict[str, np.ndarray]:
        return dict(
            pos_hist=np.zeros(self._n_bins, np.int64),
            neg_hist=np.zeros(self._n_bins, np.int64),
            all_hist=np.zeros(self._n_bins, np.int64),
            num=np.zeros(1, np.int64),
            degenerate=np.zeros(1, np.int64))

    def sample_stats(self, sample: dict) -> dict:
        """The statistics of one data sample (public for tools/tests)."""
        name = self.__class__.__name__
        scoremap, degenerate = prepare_scoremap(
            get_sample_key(sample, self.map_key, name), self.eval_hw,
            f'{name}: {self.map_key!r}', out=self._map_buffer,
            normalize=self.normalize)
        mask = check_mask(get_sample_key(sample, 'gt_mask', name),
                          f'{name}: gt_mask')
        if 'ori_shape' in sample:
            ori_hw = as_hw(sample['ori_shape'])
            if mask.shape != ori_hw:
                raise ValueError(
                    f'{name}: gt_mask is {mask.shape} but ori_shape is '
                    f'{ori_hw}; the mask must be at the original resolution')
        mask = resize_mask_nearest(mask, self.eval_hw)
        # group of each pixel: 0 object, 1 background, 2 ignore
        hists = self._binner.grouped_histograms(scoremap, _GROUP[mask], 3)
        stats = dict(pos_hist=hists[0], neg_hist=hists[1],
                     num=np.ones(1, np.int64),
                     degenerate=np.full(1, int(degenerate), np.int64))
        if self.collect_curves:
            stats['all_hist'] = hists.sum(axis=0)
        return stats

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        """Turn each sample into its pixel-score histograms."""
        for sample in as_sample_list(data_samples):
            self._push(self.sample_stats(sample))

    def compute_metrics(self, results: Dict[str, np.ndarray]) -> dict:
        pos, neg = results['pos_hist'], results['neg_hist']
        curve = pr_curve_from_histograms(pos, neg)
        pxap = pxap_from_curve(curve)
        # index i of the curve <-> threshold edges[n_bins - 1 - i]; the tau
        # list is edges[0 .. n_tau - 1]
        n_tau = len(self.thresholds)
        idx = self._n_bins - 1 - np.arange(n_tau)
        precision = np.nan_to_num(curve['precision'][idx])
        recall = curve['recall'][idx]
        with np.errstate(invalid='ignore', divide='ignore'):
            f1 = np.where(precision + recall > 0,
                          2 * precision * recall / (precision + recall), 0.)
        best = int(np.argmax(f1))
        if results['degenerate'][0]:
            self._warn(f'{self.__class__.__name__}: '
                       f'{int(results["degenerate"][0])} of '
                       f'{int(results["num"][0])} maps were constant or held '
                       'a NaN and were evaluated as all-zero maps')
        if self.collect_curves:
            self.curves = dict(
                thresholds=self.thresholds,
                precision=precision,
                recall=recall,
                f1=f1,
                pos_hist=pos,
                neg_hist=neg,
                all_hist=results['all_hist'],
                bin_edges=self.edges,
                num_images=results['num'],
                num_degenerate=results['degenerate'])
        return dict(PxAP=pxap, best_f1=float(f1[best] * 100),
                    best_f1_tau=float(self.thresholds[best]))
