"""Random number generator states that survive a resume."""
import random
from typing import Optional

import numpy as np
import torch
from mmengine.hooks import Hook
from mmengine.runner import EpochBasedTrainLoop
from torch.utils.data import DataLoader

from fcam_mm.datasets.worker_seeding import datasets_of, derived_seed
from fcam_mm.registry import HOOKS


def capture_rng_states() -> dict:
    """The states of Python's ``random``, NumPy's global generator, torch's
    CPU generator and (when present) every CUDA generator, in types a
    ``weights_only`` load accepts (tensors, lists, numbers, strings)."""
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    version, internal, gauss = random.getstate()
    states = dict(
        python=[version, list(internal), gauss],
        numpy=[kind, torch.from_numpy(keys.astype(np.int64)), int(pos),
               int(has_gauss), float(cached)],
        torch=torch.get_rng_state())
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        states['cuda'] = torch.cuda.get_rng_state_all()
    return states


def restore_rng_states(states: dict) -> None:
    """Set the generators :func:`capture_rng_states` captured."""
    version, internal, gauss = states['python']
    random.setstate((version, tuple(internal), gauss))
    kind, keys, pos, has_gauss, cached = states['numpy']
    np.random.set_state((kind, keys.numpy().astype(np.uint32), pos,
                         has_gauss, cached))
    torch.set_rng_state(states['torch'])
    if 'cuda' in states and torch.cuda.is_available():
        cuda = states['cuda']
        if len(cuda) == torch.cuda.device_count():
            torch.cuda.set_rng_state_all(cuda)


@HOOKS.register_module()
class RNGStateHook(Hook):
    """Make ``--resume`` continue the random streams of the interrupted run.

    mmengine's resume restores weights, optimiser, schedulers, epoch and
    the message hub, and seeds the generators again from ``randomness.seed``
    — so after a resume the augmentations, the dataloader's shuffling seed
    and F-CAM's seed sampling draw from another stream than the
    uninterrupted run at the same epoch. This hook:

    - at the end of each training epoch captures the generators' states
      (per rank) and writes them into every checkpoint saved until the next
      epoch ends (``checkpoint['rng_states']``); an iteration-based loop's
      checkpoints get the states of the moment they are saved;
    - runs validation inside a saved/restored state, so that validating
      (how often, what it draws) does not move the training streams; the
      next epoch starts from exactly the states the checkpoint holds;
    - on resume, restores those states just before training continues
      (after mmengine's own re-seeding).

    - before each training epoch tells the training dataset's workers the
      seed, epoch and rank, from which they reseed
      (:mod:`fcam_mm.datasets.worker_seeding`): a worker's augmentations
      depend on the epoch, not on the worker's history, which no
      checkpoint holds (persistent workers).

    With ``randomness.deterministic=True`` a resumed run is then
    bit-identical to the uninterrupted one on the CPU, with
    ``num_workers=0`` and with persistent workers
    (``tests/test_tools/test_kill_resume.py``).
    """

    priority = 'VERY_HIGH'  # capture before CheckpointHook saves

    def __init__(self):
        self._epoch_end_states: Optional[dict] = None
        self._before_val: Optional[dict] = None
        self._resumed: Optional[dict] = None

    def before_train_epoch(self, runner) -> None:
        # dataloader workers: reseeded from (seed, epoch, rank, worker id)
        # at their first sample of this epoch (fcam_mm.datasets.
        # worker_seeding), so persistent workers resume exactly too
        loop = getattr(runner, 'train_loop', None)
        dataloader = getattr(loop, 'dataloader', None)
        dataset = getattr(dataloader, 'dataset', None)
        for part in datasets_of(dataset) if dataset is not None else ():
            if hasattr(part, 'set_worker_epoch'):
                part.set_worker_epoch(runner.seed, runner.epoch, runner.rank)
        if isinstance(dataloader, DataLoader):
            # Its iterator draws a base seed when it is created — each
            # epoch, or (persistent workers) only the first: from the
            # global generator that would shift the training stream of a
            # resumed run by one draw. A generator of its own instead.
            dataloader.generator = torch.Generator().manual_seed(
                derived_seed(runner.seed, runner.epoch, runner.rank))

    def after_train_epoch(self, runner) -> None:
        self._epoch_end_states = capture_rng_states()

    def before_val_epoch(self, runner) -> None:
        self._before_val = capture_rng_states()

    def after_val_epoch(self, runner, metrics=None) -> None:
        if self._before_val is not None:
            restore_rng_states(self._before_val)
            self._before_val = None

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        if isinstance(getattr(runner, 'train_loop', None),
                      EpochBasedTrainLoop):
            states = self._epoch_end_states
        else:
            # iteration-based: saved in after_train_iter, and the next
            # iteration draws from here (validation, after it, is isolated)
            states = capture_rng_states()
        if states is not None:
            checkpoint['rng_states'] = states

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        # load_from without resume starts a new run: its own streams
        if getattr(runner, '_resume', False):
            self._resumed = checkpoint.get('rng_states')

    def before_train(self, runner) -> None:
        if self._resumed is not None:
            restore_rng_states(self._resumed)
            self._epoch_end_states = self._resumed
            self._resumed = None
