"""How much of the object a localization map covers at one threshold: a
diagnostic beside the protocol's threshold-free metrics."""
from typing import Dict, Optional, Sequence, Union

import numpy as np

from fcam_mm.registry import METRICS
from ..functional.wsol_protocol import (EVAL_SIZE, MASK_BACKGROUND,
                                        MASK_OBJECT, as_hw, check_mask,
                                        parse_eval_size, prepare_scoremap,
                                        resize_mask_nearest)
from .wsol_base_metric import WSOLBaseMetric, as_sample_list, get_sample_key

#: per-image IoUs are summed as integers in units of 1e-9, so that the sum
#: does not depend on how the split is divided between ranks
_IOU_UNITS = 10**9


@METRICS.register_module()
class MapCoverageMetric(WSOLBaseMetric):
    """The foreground a map selects at one threshold, against the GT mask.

    The protocol's metrics marginalise (PxAP) or optimise (MaxBoxAcc) the
    threshold, so they do not say *how* a map errs. This one fixes it: for
    every image the map (``map_key``) is prepared exactly as the protocol
    does (bicubic resize to ``eval_size``, min-max normalised unless
    ``normalize=False``), the mask is resized with nearest interpolation
    and its ignore pixels are dropped, and the foreground is
    ``F = {s >= threshold}``. With ``O`` the object pixels, pooled over the
    split (pixels, not images)::

        fg_fraction = Σ|F| / Σ|kept pixels|     gt_fraction = Σ|O| / Σ|kept|
        recall      = Σ|F ∩ O| / Σ|O|           precision   = Σ|F ∩ O| / Σ|F|
        mIoU        = mean over images of |F ∩ O| / |F ∪ O|   (×100)
        soft_fraction = Σ|{soft_low < s < 1 - soft_low}| / Σ|kept|

    ``fg_fraction`` below ``gt_fraction`` with a high precision is a map
    that hugs its seeds (under-segments); ``soft_fraction`` near 0 is a
    near-binary map, for which the protocol's threshold search has little
    to choose from. All figures are percentages.

    Args:
        map_key (str): data-sample key of the map (``'cam'``, ``'fcam'``).
        threshold (float): foreground threshold on the prepared map.
        normalize (bool): min-max normalise each map (the protocol). With
            ``False`` maps must already lie in ``[0, 1]`` (F-CAM's softmax),
            and ``threshold`` 0.5 is the decoder's own decision.
        soft_low (float): margin of ``soft_fraction``, in ``(0, 0.5)``.
        eval_size (int | tuple): evaluation frame (224 in the protocol).
        prefix (str, optional): defaults to ``'coverage'``.
    """
    default_prefix: Optional[str] = 'coverage'

    def __init__(self,
                 map_key: str = 'cam',
                 threshold: float = 0.5,
                 normalize: bool = True,
                 soft_low: float = 0.1,
                 eval_size: Union[int, Sequence[int]] = EVAL_SIZE,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_curves=False, out_dir=None,
                         collect_device=collect_device, prefix=prefix)
        if not 0.0 < float(threshold) <= 1.0:
            raise ValueError(f'threshold must be in (0, 1], got {threshold!r}')
        if not 0.0 < float(soft_low) < 0.5:
            raise ValueError(f'soft_low must be in (0, 0.5), got {soft_low!r}')
        self.map_key = map_key
        self.threshold = float(threshold)
        self.normalize = normalize
        self.soft_low = float(soft_low)
        self.eval_hw = parse_eval_size(eval_size)
        self._map_buffer = np.empty(self.eval_hw)

    def _zero_sums(self) -> Dict[str, np.ndarray]:
        return {key: np.zeros(1, np.int64) for key in
                ('kept', 'fg', 'obj', 'hit', 'soft', 'iou', 'num')}

    def sample_stats(self, sample: dict) -> dict:
        name = self.__class__.__name__
        scoremap, _ = prepare_scoremap(
            get_sample_key(sample, self.map_key, name), self.eval_hw,
            f'{name}: {self.map_key!r}', out=self._map_buffer,
            normalize=self.normalize)
        mask = check_mask(get_sample_key(sample, 'gt_mask', name),
                          f'{name}: gt_mask')
        if 'ori_shape' in sample and mask.shape != as_hw(sample['ori_shape']):
            raise ValueError(f'{name}: gt_mask is {mask.shape} but ori_shape '
                             f'is {as_hw(sample["ori_shape"])}')
        mask = resize_mask_nearest(mask, self.eval_hw)
        kept = (mask == MASK_OBJECT) | (mask == MASK_BACKGROUND)
        obj = mask == MASK_OBJECT
        fg = (scoremap >= self.threshold) & kept
        soft = (scoremap > self.soft_low) & (scoremap < 1 - self.soft_low)
        hit = int((fg & obj).sum())
        union = int((fg | obj).sum())
        iou = hit / union if union else 1.0
        return dict(kept=np.array([kept.sum()], np.int64),
                    fg=np.array([fg.sum()], np.int64),
                    obj=np.array([obj.sum()], np.int64),
                    hit=np.array([hit], np.int64),
                    soft=np.array([(soft & kept).sum()], np.int64),
                    iou=np.array([round(iou * _IOU_UNITS)], np.int64),
                    num=np.ones(1, np.int64))

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        for sample in as_sample_list(data_samples):
            self._push(self.sample_stats(sample))

    def compute_metrics(self, results: Dict[str, np.ndarray]) -> dict:
        r = {key: int(value[0]) for key, value in results.items()}

        def percent(a, b):
            return 100.0 * a / b if b else float('nan')

        return dict(
            fg_fraction=percent(r['fg'], r['kept']),
            gt_fraction=percent(r['obj'], r['kept']),
            recall=percent(r['hit'], r['obj']),
            precision=percent(r['hit'], r['fg']),
            mIoU=100.0 * r['iou'] / _IOU_UNITS / r['num'],
            soft_fraction=percent(r['soft'], r['kept']))
