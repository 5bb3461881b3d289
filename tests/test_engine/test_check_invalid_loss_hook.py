"""CheckInvalidLossHook: a NaN loss stops training at its step, naming the
epoch, the iteration and the terms; healthy runs are not stopped; the
runtime config turns it on; distributed ranks stop together."""
import glob
import os.path as osp
import re
from types import SimpleNamespace

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn as nn
from mmengine.config import Config
from mmengine.model import BaseModel
from mmengine.runner import Runner

from fcam_mm.engine.hooks import CheckInvalidLossHook
from fcam_mm.engine.hooks.check_invalid_loss_hook import non_finite_terms
from fcam_mm.registry import HOOKS

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEFAULT_RUNTIME = osp.join(REPO, 'configs', '_base_', 'default_runtime.py')


class ToyModel(BaseModel):
    """Two loss terms; ``loss_b`` becomes ``poison`` at forward call
    ``poison_at`` (1-based)."""

    def __init__(self, poison_at=None, poison=float('nan')):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(1))
        self.calls = 0
        self.poison_at = poison_at
        self.poison = poison

    def forward(self, inputs, data_samples=None, mode='tensor'):
        self.calls += 1
        loss_a = (self.weight * inputs).pow(2).mean()
        loss_b = 0.5 * loss_a
        if self.calls == self.poison_at:
            loss_b = loss_b * self.poison
        return dict(loss_a=loss_a, loss_b=loss_b)


def make_runner(work_dir, model, epochs):
    """The runtime's own default hooks (so the check is there by default),
    without the parts that need a validation loop or a WSOL visualizer."""
    hooks = Config.fromfile(DEFAULT_RUNTIME).default_hooks
    hooks.checkpoint.save_best = None
    hooks.pop('visualization')
    data = [dict(inputs=torch.full((3, ), float(i + 1))) for i in range(6)]
    return Runner(
        model=model,
        work_dir=str(work_dir),
        train_dataloader=dict(
            dataset=data, batch_size=2, num_workers=0,
            sampler=dict(type='DefaultSampler', shuffle=False),
            collate_fn=dict(type='default_collate')),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=1e-3)),
        train_cfg=dict(by_epoch=True, max_epochs=epochs),
        default_hooks=hooks,
        default_scope='fcam_mm')


def test_nan_term_stops_training_at_its_step(tmp_path):
    # 6 samples, batch 2: 3 iterations per epoch; call 5 is epoch 2, iter 2.
    runner = make_runner(tmp_path, ToyModel(poison_at=5), epochs=3)
    with pytest.raises(FloatingPointError) as err:
        runner.train()
    message = str(err.value)
    assert 'epoch 2, iteration 2/3 of the epoch (iteration 5 overall)' \
        in message
    bad = message.split(': ', 1)[1].split(' (finite')[0]
    assert 'loss_b=nan' in bad and 'loss=nan' in bad
    assert 'loss_a' not in bad
    assert re.search(r'finite: loss_a=[0-9.]+', message)
    # Stopped inside epoch 2: epoch 1's checkpoint exists and is finite,
    # no checkpoint of the NaN epoch was written.
    assert osp.exists(tmp_path / 'epoch_1.pth')
    assert not glob.glob(str(tmp_path / 'epoch_2.pth'))
    state = torch.load(tmp_path / 'epoch_1.pth')['state_dict']
    assert torch.isfinite(state['weight']).all()
    assert runner.model.calls == 5  # no further step ran


def test_infinite_term_is_reported_too(tmp_path):
    runner = make_runner(tmp_path, ToyModel(poison_at=1, poison=float('inf')),
                         epochs=1)
    with pytest.raises(FloatingPointError,
                       match=r'epoch 1, iteration 1/3 .*loss=inf, '
                       r'loss_b=inf'):
        runner.train()


def test_healthy_run_is_not_stopped(tmp_path):
    runner = make_runner(tmp_path, ToyModel(), epochs=2)
    runner.train()
    assert runner.model.calls == 6
    assert osp.exists(tmp_path / 'epoch_2.pth')
    assert any(isinstance(h, CheckInvalidLossHook) for h in runner.hooks)


def test_only_loss_entries_are_checked():
    outputs = dict(loss=torch.tensor(float('nan')),
                   loss_seed=torch.tensor(0.3),
                   loss_crf=torch.tensor([1.0, float('-inf')]),
                   acc=torch.tensor(float('nan')),
                   loss_size=2.0)
    bad = non_finite_terms(outputs)
    assert set(bad) == {'loss', 'loss_crf'}
    assert bad['loss'] != bad['loss']  # NaN
    assert bad['loss_crf'] == float('-inf')
    assert non_finite_terms(None) == {}
    assert non_finite_terms(dict(loss=torch.tensor(1.0))) == {}


def test_registered_and_validated():
    assert HOOKS.get('CheckInvalidLossHook') is CheckInvalidLossHook
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match='interval'):
            CheckInvalidLossHook(interval=bad)


def test_interval_skips_unchecked_iterations():
    hook = CheckInvalidLossHook(interval=2)
    runner = SimpleNamespace(epoch=0, iter=0, train_dataloader=[0] * 4)
    nan = dict(loss=torch.tensor(float('nan')))
    hook.after_train_iter(runner, 0, outputs=nan)  # iteration 1: unchecked
    runner.iter = 1
    with pytest.raises(FloatingPointError, match='iteration 2/4'):
        hook.after_train_iter(runner, 1, outputs=nan)


def _rank_worker(rank, world, init_file, out_dir):
    dist.init_process_group('gloo', init_method=f'file://{init_file}',
                            rank=rank, world_size=world)
    hook = CheckInvalidLossHook()
    runner = SimpleNamespace(epoch=1, iter=7, train_dataloader=[0] * 5)
    finite = dict(loss=torch.tensor(1.0), loss_crf=torch.tensor(0.5))
    hook.after_train_iter(runner, 2, outputs=finite)  # nobody stops
    outputs = dict(finite)
    if rank == 1:
        outputs['loss_crf'] = torch.tensor(float('nan'))
    try:
        hook.after_train_iter(runner, 2, outputs=outputs)
        message = 'not raised'
    except FloatingPointError as err:
        message = str(err)
    with open(osp.join(out_dir, f'rank{rank}.txt'), 'w') as f:
        f.write(message)
    dist.barrier()
    dist.destroy_process_group()


def test_all_ranks_stop_at_the_same_iteration(tmp_path):
    mp.spawn(_rank_worker, args=(2, str(tmp_path / 'init'), str(tmp_path)),
             nprocs=2, join=True)
    healthy = (tmp_path / 'rank0.txt').read_text()
    failed = (tmp_path / 'rank1.txt').read_text()
    assert 'another rank' in healthy and 'epoch 2, iteration 3/5' in healthy
    assert 'on rank 1: loss_crf=nan' in failed
    assert 'epoch 2, iteration 3/5' in failed
