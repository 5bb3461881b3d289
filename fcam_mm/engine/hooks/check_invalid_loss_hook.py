"""Stopping training at the first non-finite loss."""
import math
from typing import Dict, Optional

import torch
from mmengine.dist import all_reduce, get_rank, get_world_size
from mmengine.hooks import Hook

from fcam_mm.registry import HOOKS


def _as_number(value) -> float:
    """A log_vars entry (tensor or number) as a float, off the graph."""
    if isinstance(value, torch.Tensor):
        return value.detach().float().mean().item()
    return float(value)


def non_finite_terms(outputs: Optional[Dict]) -> Dict[str, float]:
    """The entries of a train step's ``log_vars`` whose name holds
    ``'loss'`` (what mmengine sums into the optimised loss) and whose value
    is NaN or ±inf, as ``{name: value}``."""
    bad = {}
    for name, value in (outputs or {}).items():
        if 'loss' not in name:
            continue
        number = _as_number(value)
        finite = (bool(torch.isfinite(value.detach()).all())
                  if isinstance(value, torch.Tensor) else math.isfinite(number))
        if not finite:
            bad[name] = number
    return bad


@HOOKS.register_module()
class CheckInvalidLossHook(Hook):
    """Raise ``FloatingPointError`` at the first training iteration whose
    loss (or one of its terms, ``loss_*``) is NaN or infinite, naming the
    epoch, the iteration and the non-finite terms.

    Without it a NaN loss trains on silently: the optimiser step turns every
    weight it touches into NaN, and the run keeps logging ``nan`` and saving
    NaN checkpoints. The step that produced the NaN has been applied when
    the hook runs (``after_train_iter``), but the hook stops the run before
    the next checkpoint is written, so the last checkpoint in the work dir
    is a finite one to resume from (``--resume``).

    In a distributed run every rank learns whether any rank's loss was
    non-finite (one ``all_reduce`` of a flag per iteration), so all ranks
    stop at the same iteration instead of the healthy ones waiting for the
    failed one; each rank names the terms it saw itself.

    On in every config (``default_hooks.check_invalid_loss`` in
    ``configs/_base_/default_runtime.py``; a default hook, so a leaf's
    ``custom_hooks`` list does not drop it).

    Args:
        interval (int): check every ``interval`` iterations (1: every one;
            the loss values are already read to the host every iteration
            for the logger, so checking costs nothing more).
    """

    priority = 'HIGH'

    def __init__(self, interval: int = 1):
        if isinstance(interval, bool) or not isinstance(interval, int) \
                or interval < 1:
            raise ValueError(f'interval must be an integer >= 1, got '
                             f'{interval!r}')
        self.interval = interval

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch=None,
                         outputs: Optional[Dict] = None) -> None:
        if not self.every_n_train_iters(runner, self.interval):
            return
        bad = non_finite_terms(outputs)
        flag = torch.tensor([float(bool(bad))], device=_device_of(outputs))
        if get_world_size() > 1:
            all_reduce(flag, op='sum')
        if flag.item() == 0:
            return
        where = (f'epoch {runner.epoch + 1}, iteration {batch_idx + 1}'
                 f'/{_epoch_length(runner)} of the epoch (iteration '
                 f'{runner.iter + 1} overall)')
        if bad:
            terms = ', '.join(f'{k}={v}' for k, v in bad.items())
            finite = ', '.join(
                f'{k}={_as_number(v):.4g}' for k, v in outputs.items()
                if 'loss' in k and k not in bad)
            raise FloatingPointError(
                f'non-finite training loss at {where}'
                f'{f" on rank {get_rank()}" if get_world_size() > 1 else ""}'
                f': {terms}' + (f' (finite: {finite})' if finite else '') +
                '. Training stopped; the checkpoints already written are '
                'finite (resume from the last one with --resume).')
        raise FloatingPointError(
            f'non-finite training loss on another rank at {where}: training '
            'stopped on every rank (that rank names the loss terms)')


def _device_of(outputs: Optional[Dict]) -> torch.device:
    """The device of the loss tensors: NCCL reduces CUDA tensors only."""
    for value in (outputs or {}).values():
        if isinstance(value, torch.Tensor):
            return value.device
    return torch.device('cpu')


def _epoch_length(runner) -> str:
    try:
        return str(len(runner.train_dataloader))
    except TypeError:  # an iterable dataset without a length
        return '?'
