"""Top-k classification accuracy of the WSOL classifier."""
from typing import Dict, Optional, Sequence

import numpy as np

from fcam_mm.registry import METRICS
from ..functional.wsol_protocol import as_label, target_rank
from .wsol_base_metric import WSOLBaseMetric, as_sample_list, get_sample_key


@METRICS.register_module()
class ClassificationMetric(WSOLBaseMetric):
    """Top-k classification accuracy (%) from ``pred_score`` and
    ``gt_label``.

    A sample is top-k correct when fewer than k classes rank before the GT
    class in ``pred_score`` sorted in descending order by a stable sort
    (equal scores: the lower class index first — ``torch.argmax`` and
    ``torch.sort(stable=True)`` agree), so ties never count as correct for
    free.

    Args:
        topk (sequence of int): the k to report (``top1``, ``top5``, ...).
        prefix (str, optional): defaults to ``'cls'``.
    """
    default_prefix: Optional[str] = 'cls'

    def __init__(self,
                 topk: Sequence[int] = (1, 5),
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_curves=False, out_dir=None,
                         collect_device=collect_device, prefix=prefix)
        self.topk = tuple(int(k) for k in topk)
        if not self.topk or any(k < 1 for k in self.topk):
            raise ValueError(f'topk must be positive ints, got {topk}')

    def _zero_sums(self) -> Dict[str, np.ndarray]:
        return dict(correct=np.zeros(len(self.topk), np.int64),
                    num=np.zeros(1, np.int64))

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        name = self.__class__.__name__
        for sample in as_sample_list(data_samples):
            label = as_label(get_sample_key(sample, 'gt_label', name))
            rank = target_rank(
                get_sample_key(sample, 'pred_score', name), label)
            self._push(dict(
                correct=np.array([rank < k for k in self.topk], np.int64),
                num=np.ones(1, np.int64)))

    def compute_metrics(self, results: Dict[str, np.ndarray]) -> dict:
        num = float(results['num'][0])
        return {
            f'top{k}': float(c * 100. / num)
            for k, c in zip(self.topk, results['correct'])
        }
