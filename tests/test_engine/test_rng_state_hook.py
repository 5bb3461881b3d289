"""RNGStateHook: the generator states round-trip through a weights_only
checkpoint, validation does not move the training streams, and what a
checkpoint holds for epoch- and iteration-based loops."""
import random
from types import SimpleNamespace

import numpy as np
import torch
from mmengine.runner import EpochBasedTrainLoop

from fcam_mm.engine.hooks import RNGStateHook
from fcam_mm.engine.hooks.rng_state_hook import (capture_rng_states,
                                                 restore_rng_states)
from fcam_mm.utils import safe_torch_load


def draws():
    return (random.random(), float(np.random.rand()),
            float(torch.rand(1)), float(np.random.randn()))


def test_states_round_trip_through_a_safe_checkpoint(tmp_path):
    np.random.randn()  # leave a cached Gaussian in NumPy's state
    path = str(tmp_path / 'ckpt.pth')
    torch.save(dict(rng_states=capture_rng_states()), path)
    expected = draws()
    restore_rng_states(safe_torch_load(path)['rng_states'])
    assert draws() == expected


def test_validation_does_not_move_the_training_streams():
    hook = RNGStateHook()
    state = capture_rng_states()
    without_val = draws()
    restore_rng_states(state)
    hook.before_val_epoch(None)
    draws()  # what validation would draw
    hook.after_val_epoch(None)
    assert draws() == without_val


class FakeEpochLoop(EpochBasedTrainLoop):
    def __init__(self):  # no runner or dataloader needed
        pass


def test_what_each_loop_writes_into_checkpoints():
    hook = RNGStateHook()
    runner = SimpleNamespace(train_loop=FakeEpochLoop(), _resume=True)
    hook.after_train_epoch(runner)
    epoch_end = draws()
    checkpoint = {}
    hook.before_save_checkpoint(runner, checkpoint)
    # an epoch-based checkpoint holds the end-of-epoch states, whatever
    # was drawn since (validation, saving again after it)
    restore_rng_states(checkpoint['rng_states'])
    assert draws() == epoch_end

    iter_runner = SimpleNamespace(train_loop=object(), _resume=True)
    checkpoint = {}
    hook.before_save_checkpoint(iter_runner, checkpoint)
    after_save = draws()
    restore_rng_states(checkpoint['rng_states'])
    assert draws() == after_save


def test_restored_only_when_resuming():
    saved = dict(rng_states=capture_rng_states())
    expected = draws()
    hook = RNGStateHook()
    hook.after_load_checkpoint(SimpleNamespace(_resume=False), saved)
    hook.before_train(None)
    assert draws() != expected  # load_from alone: a new run's streams
    hook.after_load_checkpoint(SimpleNamespace(_resume=True), saved)
    hook.before_train(None)
    assert draws() == expected
