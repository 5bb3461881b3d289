"""Random number generator states that survive a resume."""
import random
from typing import Optional

import numpy as np
import torch
from mmengine.hooks import Hook
from mmengine.runner import EpochBasedTrainLoop

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

    With ``randomness.deterministic=True``, ``num_workers=0`` or
    non-persistent workers (mmengine seeds workers from the seed, rank and
    worker id each epoch), a resumed run is then bit-identical to the
    uninterrupted one on the CPU (``tests/test_engine/test_kill_resume.py``).
    Persistent workers keep generator states inside their processes, which
    no checkpoint holds: their augmentations differ after a resume.
    """

    priority = 'VERY_HIGH'  # capture before CheckpointHook saves

    def __init__(self):
        self._epoch_end_states: Optional[dict] = None
        self._before_val: Optional[dict] = None
        self._resumed: Optional[dict] = None

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
