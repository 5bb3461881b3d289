"""Dataloader workers reseeded from (seed, epoch, rank, worker id): an
epoch's draws do not depend on the worker's history, so persistent workers
and fresh ones (a resumed run) see the same numbers."""
import random

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from fcam_mm.datasets.worker_seeding import EpochSeededWorkers, datasets_of


class Draws(EpochSeededWorkers, Dataset):
    def __init__(self):
        self._init_worker_seeding()

    def __len__(self):
        return 6

    def __getitem__(self, idx):
        self.reseed_worker_for_epoch()
        return torch.tensor([random.random(), float(np.random.rand()),
                             float(torch.rand(1))], dtype=torch.float64)


def epoch_draws(loader, dataset, epoch, seed=7):
    dataset.set_worker_epoch(seed, epoch, 0)
    return torch.cat([batch for batch in loader])


def loader_of(dataset, persistent):
    return DataLoader(dataset, batch_size=1, num_workers=2,
                      persistent_workers=persistent,
                      multiprocessing_context='fork')


def test_persistent_workers_draw_what_fresh_workers_draw():
    dataset = Draws()
    persistent = loader_of(dataset, True)
    epochs = [epoch_draws(persistent, dataset, e) for e in range(3)]
    # a resumed run: new workers, straight into epoch 2
    resumed = Draws()
    fresh = epoch_draws(loader_of(resumed, True), resumed, 2)
    assert torch.equal(fresh, epochs[2])
    # and the epochs differ from each other (non-persistent workers seeded
    # once per start would repeat themselves)
    assert not torch.equal(epochs[0], epochs[1])
    other_seed = epoch_draws(loader_of(Draws(), False), Draws(), 2, seed=8)
    assert not torch.equal(other_seed, epochs[2])


def test_main_process_is_not_reseeded():
    dataset = Draws()
    dataset.set_worker_epoch(7, 3, 0)
    state = torch.get_rng_state()
    dataset[0]
    torch.set_rng_state(state)
    expected = torch.rand(1)
    torch.set_rng_state(state)
    dataset.reseed_worker_for_epoch()  # num_workers=0: no reseed
    assert torch.equal(torch.rand(1), expected)


def test_datasets_of_finds_wrapped_datasets():
    from mmengine.dataset import ConcatDataset
    a, b = Draws(), Draws()

    class Wrapper:
        def __init__(self, inner):
            self.dataset = inner
    concat = ConcatDataset.__new__(ConcatDataset)
    concat.datasets = [a, b]
    assert [d for d in datasets_of(Wrapper(concat))
            if isinstance(d, Draws)] == [a, b]
