"""Flat-memory accumulation of per-sample statistics, exact across ranks."""
import logging
import os.path as osp
from abc import abstractmethod
from typing import Any, Dict, List, Optional, Sequence

import numpy as np
from mmengine.dist import all_gather_object, get_dist_info, is_main_process
from mmengine.evaluator import BaseMetric
from mmengine.logging import print_log


class WSOLBaseMetric(BaseMetric):
    """A metric whose per-sample results are sufficient statistics that add.

    ``process`` turns every sample into a small dict of integer arrays
    (per-threshold correctness counts, histograms, ...). Instead of keeping
    one entry per sample in ``self.results`` (mmengine's contract, memory
    linear in the split), each rank keeps

    * the running sum of all its samples but the most recent one, and
    * the statistics of its most recent sample, apart,

    so memory is constant in the number of images. ``evaluate(size)``
    all-gathers these from every rank and adds a rank's last sample only if
    it is a real one: with mmengine's ``DefaultSampler`` the k-th sample of
    rank r has global position ``r + k * world_size``, and the duplicates
    that pad the split to a multiple of the world size are positions
    ``>= size``, always the last sample of their rank (what mmengine's
    ``collect_results`` truncates). All statistics are integers, so the sum
    does not depend on how the split was divided: one process and N ranks
    give identical numbers.

    When the ranks saw exactly ``size`` samples together there is no
    padding and every sample counts, however the split was divided
    (contiguous or unequal shards, a rank with none, ``round_up=False``).
    Padding in another layout is caught when it makes the number of counted
    samples differ from ``size``; a duplicate that is not the last sample of
    its rank and leaves the count at ``size`` is not (as with mmengine's
    ``collect_results``, which assumes the same layout).

    Args:
        collect_curves (bool): keep the curves of the last evaluation in
            ``self.curves`` (NumPy arrays) and, with ``out_dir``, write them
            to ``{out_dir}/{prefix}_{curves_name}.npz``. Curves never go to
            the logged scalars.
        out_dir (str, optional): where to write the curves (main process).
        prefix (str, optional): metric name prefix, e.g. ``'fcam'``.
        collect_device (str): kept for mmengine compatibility; the gathered
            state is small and always goes through ``all_gather_object``.
    """

    #: file name stem of the dumped curves (``{prefix}_{curves_name}.npz``)
    curves_name = 'curves'

    def __init__(self,
                 collect_curves: bool = True,
                 out_dir: Optional[str] = None,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.collect_curves = collect_curves
        self.out_dir = out_dir
        self.curves: Dict[str, Any] = {}
        self._reset_state()

    # ------------------------------------------------------------------
    # accumulation
    # ------------------------------------------------------------------
    def _reset_state(self) -> None:
        self._sums: Optional[Dict[str, np.ndarray]] = None
        self._pending: Optional[dict] = None
        self._num_seen = 0

    @abstractmethod
    def _zero_sums(self) -> Dict[str, np.ndarray]:
        """Zero-initialised sums (int64 arrays)."""

    def _add_stats(self, sums: Dict[str, np.ndarray], stats: dict) -> None:
        """Add one sample's statistics to the sums (override to expand
        compact statistics)."""
        for key, value in stats.items():
            sums[key] += value

    def _push(self, stats: dict) -> None:
        """Record the statistics of the next sample of this rank."""
        if self._sums is None:
            self._sums = self._zero_sums()
        if self._pending is not None:
            self._add_stats(self._sums, self._pending)
        self._pending = stats
        self._num_seen += 1

    def evaluate(self, size: int) -> dict:
        """Gather the per-rank sums, drop the sampler's padding and compute
        the metrics (identically on every rank).

        Args:
            size (int): number of samples of the evaluated split.
        """
        rank, world_size = get_dist_info()
        state = (self._sums, self._pending, self._num_seen)
        states = all_gather_object(state) if world_size > 1 else [state]
        total = self._zero_sums()
        counted = 0
        # no padding when the ranks saw exactly ``size`` samples together:
        # then any division of the split counts (contiguous, unequal, a
        # rank with none, round_up=False); else the sampler's layout says
        # which last samples are the padding
        padded = sum(seen for _, _, seen in states) > size
        for r, (sums, pending, seen) in enumerate(states):
            if seen == 0:
                continue
            for key, value in sums.items():
                total[key] += value
            counted += seen - 1
            if not padded or r + (seen - 1) * world_size < size:
                self._add_stats(total, pending)
                counted += 1
        self._reset_state()
        if counted != size:
            raise RuntimeError(
                f'{self.__class__.__name__}: counted {counted} samples but '
                f'the split has {size}. The metric assumes mmengine\'s '
                'sampler layout (rank r holds positions r, r + world_size, '
                '...; padding only at the end) and one process() call per '
                'sample of the split.')
        if size == 0:
            raise RuntimeError(f'{self.__class__.__name__}: empty split')
        metrics = self.compute_metrics(total)
        if self.collect_curves and self.out_dir and is_main_process():
            self._dump_curves()
        if self.prefix:
            metrics = {f'{self.prefix}/{k}': v for k, v in metrics.items()}
        return metrics

    @abstractmethod
    def compute_metrics(self, results: Dict[str, np.ndarray]) -> dict:
        """Metrics (and ``self.curves``) from the summed statistics."""

    def _dump_curves(self) -> None:
        from mmengine.utils import mkdir_or_exist
        mkdir_or_exist(self.out_dir)
        name = (self.prefix or 'metric').replace('/', '_')
        path = osp.join(self.out_dir, f'{name}_{self.curves_name}.npz')
        np.savez(path, **{k: np.asarray(v) for k, v in self.curves.items()})
        print_log(f'{self.__class__.__name__}: curves written to {path}',
                  logger='current')

    @staticmethod
    def _warn(message: str) -> None:
        if is_main_process():
            print_log(message, logger='current', level=logging.WARNING)


def get_sample_key(sample: dict, key: str, metric: str):
    """``sample[key]`` with an error that says which metric needed it."""
    if key not in sample:
        raise KeyError(f'{metric}: the data sample has no {key!r} (keys: '
                       f'{sorted(sample.keys())})')
    return sample[key]


def as_sample_list(data_samples: Sequence) -> List[dict]:
    """Data samples as dicts (mmengine's Evaluator already converts
    ``BaseDataElement`` with ``to_dict()``; direct callers may not)."""
    out = []
    for sample in data_samples:
        if hasattr(sample, 'to_dict'):
            sample = sample.to_dict()
        out.append(sample)
    return out
