"""Dataloader workers whose random streams are a function of the epoch.

mmengine seeds each worker once, from (seed, rank, worker id), when the
worker starts. A persistent worker (``persistent_workers=True``, every
config here) then carries its generator states from epoch to epoch inside
its own process, where no checkpoint can reach them: after ``--resume`` the
new workers start from the initial seeds, and the augmentations of every
later epoch differ from the uninterrupted run's (measured on the synthetic
two-stage run: 94 of 112 tensors differ after 4 epochs). Non-persistent
workers have the opposite problem: re-seeded identically every epoch, each
worker repeats its random sequence.

Here a dataset reseeds Python's ``random``, NumPy's global generator and
torch in each worker whenever the epoch changes, from
``SeedSequence([seed, epoch, rank, worker id])``: the augmentations of an
epoch no longer depend on what the worker did before, so a resumed run
sees the same ones, persistent workers or not. The epoch (with the seed and
the rank) reaches the workers through a 3-element int64 tensor in shared
memory, written by :class:`~fcam_mm.engine.hooks.RNGStateHook` before each
training epoch (it works with the fork and spawn start methods alike). In
the main process (``num_workers=0``) nothing is reseeded: ``RNGStateHook``
restores those streams from the checkpoint.
"""
import random

import numpy as np
import torch
from torch.utils.data import get_worker_info

UNSET = -1


def derived_seed(seed: int, *keys: int) -> int:
    """A 32-bit seed from ``seed`` and non-negative ``keys`` (epoch, rank,
    worker id…) through NumPy's ``SeedSequence``, whose outputs for
    different keys are independent."""
    entropy = [int(seed) & 0xFFFFFFFF, *(int(k) for k in keys)]
    return int(np.random.SeedSequence(entropy).generate_state(1)[0])


class EpochSeededWorkers:
    """Mixin for a dataset (before :class:`mmengine.dataset.BaseDataset`
    in the bases): call :meth:`_init_worker_seeding` in ``__init__`` and
    :meth:`reseed_worker_for_epoch` first thing in ``__getitem__``."""

    def _init_worker_seeding(self) -> None:
        self._worker_seeding = torch.full((3, ), UNSET,
                                          dtype=torch.int64).share_memory_()
        self._seeded_epoch = None

    def set_worker_epoch(self, seed: int, epoch: int, rank: int = 0) -> None:
        """Called in the main process before each training epoch."""
        self._worker_seeding.copy_(
            torch.tensor([int(seed), int(epoch), int(rank)]))

    def reseed_worker_for_epoch(self) -> None:
        """In a dataloader worker, at the first sample of a new epoch:
        seed the generators from (seed, epoch, rank, worker id)."""
        state = getattr(self, '_worker_seeding', None)
        info = get_worker_info()
        if state is None or info is None:
            return
        seed, epoch, rank = (int(v) for v in state.tolist())
        if epoch == UNSET or epoch == self._seeded_epoch:
            return
        self._seeded_epoch = epoch
        worker_seed = derived_seed(seed, epoch, rank, info.id)
        random.seed(worker_seed)
        np.random.seed(worker_seed)
        torch.manual_seed(worker_seed)


def datasets_of(dataset):
    """``dataset`` and the datasets it wraps (mmengine's Concat/Repeat/
    ClassBalanced wrappers keep theirs in ``datasets`` / ``dataset``)."""
    yield dataset
    for name in ('datasets', 'dataset'):
        inner = getattr(dataset, name, None)
        if inner is None or inner is dataset:
            continue
        for child in (inner if isinstance(inner, (list, tuple)) else
                      [inner]):
            yield from datasets_of(child)
