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
    expected = single_process(size)
    outputs = _evaluate_simulated(monkeypatch, shards, [3] * world, size)
    for out in outputs:
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


# --------------------------------------------------------------------------
# Any division of a split between two ranks gives the single-process
# numbers, bit for bit: mmengine's samplers (interleaved, shuffled, with and
# without padding) and hand-made partitions (contiguous, unequal, one rank
# empty, shuffled, reversed), with different batch sizes on the two ranks.
# --------------------------------------------------------------------------
SPLIT = 9  # odd: a sampler that rounds up pads rank 1 with one duplicate
_SAMPLERS = {
    'sampler_interleaved': dict(shuffle=False),
    'sampler_shuffled': dict(shuffle=True),
    'sampler_shuffled_seed_5': dict(shuffle=True, seed=5),
    'sampler_no_round_up': dict(shuffle=False, round_up=False),
}
_PERM = [int(i) for i in np.random.default_rng(7).permutation(SPLIT)]
_PARTITIONS = {
    'contiguous': (list(range(5)), list(range(5, 9))),
    'contiguous_rank1_larger': (list(range(4)), list(range(4, 9))),
    # a contiguous split padded like a sampler: a duplicate at the end
    'contiguous_padded': (list(range(5)), [5, 6, 7, 8, 0]),
    'unequal_8_1': (list(range(8)), [8]),
    'unequal_1_8': ([0], list(range(1, 9))),
    'rank0_empty': ([], list(range(9))),
    'rank1_empty': (list(range(9)), []),
    'shuffled_3_6': (_PERM[:3], _PERM[3:][::-1]),
    'reversed_interleaved': (list(range(9))[::-2], list(range(9))[-2::-2]),
}
SPLITS = sorted(_SAMPLERS) + sorted(_PARTITIONS)


def two_rank_split(name, rank):
    """The indices that ``rank`` of two evaluates under the split ``name``
    (for the samplers: what mmengine's ``DefaultSampler`` gives that rank,
    so ``get_dist_info`` must say rank / 2) and its batch size."""
    batch = (1, 4)[rank]
    if name in _SAMPLERS:
        from mmengine.dataset import DefaultSampler
        kwargs = dict(dict(seed=0), **_SAMPLERS[name])
        return list(iter(DefaultSampler(list(range(SPLIT)), **kwargs))), batch
    return list(_PARTITIONS[name][rank]), batch


def single_process_in_order(order, batch):
    return evaluate_indices(make_metrics(), order, len(order), batch=batch)


def test_one_process_order_and_batching_do_not_matter():
    expected = single_process(SPLIT)
    assert single_process_in_order(list(range(SPLIT))[::-1], 4) == expected
    assert single_process_in_order(_PERM, 1) == expected
    assert single_process_in_order(_PERM, SPLIT) == expected


def _split_worker(rank, world, init_file, out_dir):
    dist.init_process_group('gloo', init_method=f'file://{init_file}',
                            rank=rank, world_size=world)
    outputs = {}
    for name in SPLITS:
        indices, batch = two_rank_split(name, rank)
        # every rank calls evaluate (a collective) even with no sample
        outputs[name] = evaluate_indices(make_metrics(), indices, SPLIT,
                                         batch=batch)
    with open(osp.join(out_dir, f'splits_rank{rank}.json'), 'w') as f:
        json.dump(outputs, f)
    dist.barrier()
    dist.destroy_process_group()


def test_two_gloo_ranks_any_split_equal_one_process(tmp_path):
    mp.spawn(_split_worker, args=(2, str(tmp_path / 'init'), str(tmp_path)),
             nprocs=2, join=True)
    expected = single_process(SPLIT)
    for rank in range(2):
        with open(tmp_path / f'splits_rank{rank}.json') as f:
            outputs = json.load(f)
        assert sorted(outputs) == sorted(SPLITS)
        for name in SPLITS:
            # JSON keeps a float's shortest repr: equal means bit-identical
            assert outputs[name] == expected, (rank, name)


def _evaluate_simulated(monkeypatch, shards, batches, size):
    """Each shard processed by its own metrics, then every rank's
    ``evaluate`` with the all-gather replaced by the gathered states."""
    world = len(shards)
    ranks = [make_metrics() for _ in range(world)]
    for metrics, shard, batch in zip(ranks, shards, batches):
        for i in range(0, len(shard), batch):
            chunk = [make_sample(j) for j in shard[i:i + batch]]
            for m in metrics:
                m.process(None, chunk)
    outputs = []
    for r in range(world):
        out = {}
        for k in range(len(ranks[r])):
            states = [(rk[k]._sums, rk[k]._pending, rk[k]._num_seen)
                      for rk in ranks]
            monkeypatch.setattr(wsol_base_metric, 'get_dist_info',
                                lambda r=r: (r, world))
            monkeypatch.setattr(wsol_base_metric, 'all_gather_object',
                                lambda state, states=states: states)
            out.update(ranks[r][k].evaluate(size))
            for rk, s in zip(ranks, states):
                rk[k]._sums, rk[k]._pending, rk[k]._num_seen = s
        outputs.append(out)
    monkeypatch.undo()
    return outputs


@pytest.mark.parametrize('name', SPLITS)
def test_simulated_two_ranks_any_split(monkeypatch, name):
    """The same splits without processes (one failing case per split)."""
    from mmengine.dataset import sampler as mmengine_sampler
    splits = []
    for rank in range(2):
        monkeypatch.setattr(mmengine_sampler, 'get_dist_info',
                            lambda rank=rank: (rank, 2))
        splits.append(two_rank_split(name, rank))
    monkeypatch.undo()
    shards = [s for s, _ in splits]
    seen = sorted(i for s in shards for i in s)
    assert sorted(set(seen)) == list(range(SPLIT))  # a cover of the split
    outputs = _evaluate_simulated(monkeypatch, shards,
                                  [b for _, b in splits], SPLIT)
    expected = single_process(SPLIT)
    for out in outputs:
        assert out == expected


@pytest.mark.parametrize('shards', [
    ([0, 1, 2, 3], [5, 6, 7, 8]),  # a sample missing on every rank
    ([0, 1, 2, 3, 4, 5], [6, 7]),  # one missing, no padding
])
def test_a_split_not_covered_is_an_error(monkeypatch, shards):
    """Fewer samples than ``size``: evaluate raises rather than scoring the
    part of the split that was seen."""
    with pytest.raises(RuntimeError, match='counted'):
        _evaluate_simulated(monkeypatch, list(shards), [2, 2], SPLIT)
