"""The metrics give identical numbers on one process and on several ranks
(mmengine's DefaultSampler, padding included): for real with two gloo
processes on the CPU, and by simulation for other world sizes."""
import json
import os.path as osp

import numpy as np
import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from fcam_mm.evaluation import (BoxLocalizationMetric, ClassificationMetric,
                                PixelLocalizationMetric)
from fcam_mm.evaluation.metrics import wsol_base_metric

EVAL = 32


def make_sample(index):
    rng = np.random.default_rng(1000 + index)
    h, w = (int(v) for v in rng.integers(20, 90, 2))
    x0, x1 = np.sort(rng.integers(0, w, 2))
    y0, y1 = np.sort(rng.integers(0, h, 2))
    mask = (rng.random((h, w)) < 0.3).astype(np.uint8)
    mask[rng.random((h, w)) < 0.05] = 255
    return dict(
        cam=torch.from_numpy(rng.random((7, 7))),
        ori_shape=(h, w),
        gt_bboxes=torch.tensor([[x0, y0, x1, y1]], dtype=torch.float32),
        gt_mask=mask,
        gt_label=torch.tensor([int(rng.integers(6))]),
        pred_score=torch.from_numpy(rng.random(6)),
        sample_idx=index)


def make_metrics():
    return [
        BoxLocalizationMetric(eval_size=EVAL),
        PixelLocalizationMetric(eval_size=EVAL),
        ClassificationMetric()
    ]


def evaluate_indices(metrics, indices, size, batch=2):
    for i in range(0, len(indices), batch):
        chunk = [make_sample(j) for j in indices[i:i + batch]]
        for m in metrics:
            m.process(None, chunk)
    out = {}
    for m in metrics:
        out.update(m.evaluate(size))
    return out


def single_process(size):
    return evaluate_indices(make_metrics(), list(range(size)), size)


def _worker(rank, world, init_file, out_dir, size):
    dist.init_process_group('gloo', init_method=f'file://{init_file}',
                            rank=rank, world_size=world)
    from mmengine.dataset import DefaultSampler
    sampler = DefaultSampler(list(range(size)), shuffle=False)
    indices = list(iter(sampler))
    out = evaluate_indices(make_metrics(), indices, size)
    with open(osp.join(out_dir, f'rank{rank}.json'), 'w') as f:
        json.dump(out, f)
    dist.barrier()
    dist.destroy_process_group()


def test_two_gloo_ranks_equal_one_process(tmp_path):
    size = 7  # odd: rank 1 gets a padded duplicate as its last sample
    mp.spawn(_worker, args=(2, str(tmp_path / 'init'), str(tmp_path), size),
             nprocs=2, join=True)
    expected = single_process(size)
    for rank in range(2):
        with open(tmp_path / f'rank{rank}.json') as f:
            assert json.load(f) == expected


@pytest.mark.parametrize('world, size', [(3, 10), (4, 2), (4, 8), (2, 1)])
def test_simulated_ranks_equal_one_process(monkeypatch, world, size):
    padded = list(range(size)) * (world + 1)
    total = -(-size // world) * world
    shards = [padded[:total][r::world] for r in range(world)]
    ranks = [make_metrics() for _ in range(world)]
    for metrics, shard in zip(ranks, shards):
        for i in range(0, len(shard), 3):
            chunk = [make_sample(j) for j in shard[i:i + 3]]
            for m in metrics:
                m.process(None, chunk)
    expected = single_process(size)
    for r in range(world):
        out = {}
        for k in range(3):
            states = [(rk[k]._sums, rk[k]._pending, rk[k]._num_seen)
                      for rk in ranks]
            monkeypatch.setattr(wsol_base_metric, 'get_dist_info',
                                lambda r=r: (r, world))
            monkeypatch.setattr(wsol_base_metric, 'all_gather_object',
                                lambda state, states=states: states)
            out.update(ranks[r][k].evaluate(size))
            # evaluate() resets the state: restore it for the next rank
            for rk, s in zip(ranks, states):
                rk[k]._sums, rk[k]._pending, rk[k]._num_seen = s
        assert out == expected


def test_memory_does_not_grow_with_the_split():
    """Only the running sums and one pending sample are kept."""
    metric = BoxLocalizationMetric(eval_size=EVAL)
    metric.process(None, [make_sample(0)])
    sums_ids = {k: id(v) for k, v in metric._sums.items()}
    for i in range(1, 6):
        metric.process(None, [make_sample(i)])
        assert {k: id(v) for k, v in metric._sums.items()} == sums_ids
    assert metric.results == []
    assert metric._num_seen == 6
