"""The end-of-epoch count of the training samples that ``skip_bad_samples``
replaced."""
import logging
from typing import List, Optional

from mmengine.dist import all_gather_object, is_main_process
from mmengine.hooks import Hook

from fcam_mm.datasets.bad_samples import SKIPPED_KEY
from fcam_mm.registry import HOOKS


def skipped_in_batch(data_batch) -> List[str]:
    """The skip messages carried by a collated batch's data samples."""
    samples = (data_batch.get('data_samples')
               if isinstance(data_batch, dict) else None) or []
    found = []
    for sample in samples:
        metainfo = getattr(sample, 'metainfo', None) or {}
        found.extend(metainfo.get(SKIPPED_KEY) or ())
    return found


@HOOKS.register_module()
class BadSampleReportHook(Hook):
    """Log, at the end of every training epoch, how many broken samples the
    training dataset skipped (``skip_bad_samples=True``) and which.

    The dataset logs a warning for each skip where it happens (a DataLoader
    worker, possibly) and passes the error on in the metainfo of the sample
    it delivers instead (``skipped_bad_samples``), so the main process sees
    every skip whatever ``num_workers`` is; this hook reads that after each
    iteration. In a distributed run the ranks' lists are gathered once per
    epoch and rank 0 logs the total. Nothing is logged for an epoch without
    skips. With an iteration-based loop the "epoch" is the whole run.

    On in every config (``default_hooks.bad_sample_report`` in
    ``configs/_base_/default_runtime.py``); it costs a look at each batch's
    metainfo.

    Args:
        max_listed (int): at most this many skipped files are listed in the
            epoch's message (all are counted).
    """

    priority = 'BELOW_NORMAL'

    def __init__(self, max_listed: int = 10):
        self.max_listed = max_listed
        self._skipped: List[str] = []
        self.last_epoch_count: Optional[int] = None

    def before_train_epoch(self, runner) -> None:
        self._skipped = []

    def after_train_iter(self, runner, batch_idx: int, data_batch=None,
                         outputs=None) -> None:
        self._skipped.extend(skipped_in_batch(data_batch))

    def after_train_epoch(self, runner) -> None:
        gathered = all_gather_object(self._skipped)
        skipped = [message for rank in gathered for message in rank]
        self.last_epoch_count = len(skipped)
        self._skipped = []
        if not skipped or not is_main_process():
            return
        listed = skipped[:self.max_listed]
        more = len(skipped) - len(listed)
        runner.logger.log(
            logging.WARNING,
            f'skip_bad_samples: {len(skipped)} broken training sample(s) '
            f'skipped in epoch {runner.epoch + 1} (each replaced by another '
            'sample):\n  ' + '\n  '.join(listed) +
            (f'\n  ... and {more} more' if more else ''))
