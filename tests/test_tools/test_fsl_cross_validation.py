"""The FSL baseline's cross-validation: the stratified fold split, the
iteration budget, and a tiny end-to-end run of the tool (2 folds, 2
learning rates, then --final) on the small synthetic split."""
import json
import os.path as osp

import numpy as np
import pytest
from mmengine.config import Config

from fcam_mm.datasets.folds import stratified_folds
from .tool_helpers import REPO, load_tool

CONFIG = osp.join(REPO, 'configs', 'fsl', 'tinyresnet_synthetic.py')


def class_counts(folds, labels):
    labels = np.asarray(labels)
    return [[int(np.sum(labels[f] == c)) for c in np.unique(labels)]
            for f in folds]


def test_folds_by_hand():
    # 5 of class 0 then 3 of class 1, dealt round-robin class by class:
    # class 0 -> folds 0,1,0,1,0 ; class 1 -> folds 1,0,1 (any seed)
    labels = [0, 0, 0, 0, 0, 1, 1, 1]
    for seed in range(4):
        folds = stratified_folds(labels, 2, seed)
        assert class_counts(folds, labels) == [[3, 1], [2, 2]]


@pytest.mark.parametrize('num_folds', [2, 3, 5])
def test_folds_are_stratified_disjoint_and_cover_the_split(num_folds):
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 4, 37)
    folds = stratified_folds(labels, num_folds, seed=7)
    assert len(folds) == num_folds
    together = np.concatenate(folds)
    assert sorted(together.tolist()) == list(range(37))  # disjoint, cover
    sizes = [len(f) for f in folds]
    assert max(sizes) - min(sizes) <= 1
    counts = np.array(class_counts(folds, labels))  # (fold, class)
    assert (counts.max(axis=0) - counts.min(axis=0) <= 1).all()
    # seeded: the same seed gives the same folds, another seed others
    again = stratified_folds(labels, num_folds, seed=7)
    assert all(np.array_equal(a, b) for a, b in zip(folds, again))
    other = stratified_folds(labels, num_folds, seed=8)
    assert any(not np.array_equal(a, b) for a, b in zip(folds, other))


def test_fold_count_must_fit_the_split():
    with pytest.raises(ValueError, match=r'num_folds must be an int in '
                       r'\[2, 3\]'):
        stratified_folds([0, 1, 0], 4)
    with pytest.raises(ValueError, match='num_folds'):
        stratified_folds([0, 1, 0], 1)


def test_iteration_budget_moves_the_schedule_end():
    tool = load_tool('analysis_tools/fsl_cross_validation.py')
    cfg = Config.fromfile(CONFIG)
    assert cfg.param_scheduler[0].end == cfg.train_cfg.max_iters
    tool.set_iteration_budget(cfg, 7)
    assert cfg.train_cfg.max_iters == 7 and cfg.param_scheduler[0].end == 7
    epochs = Config.fromfile(osp.join(
        REPO, 'configs', 'fsl', 'tinyresnet_synthetic_frozen_stage1.py'))
    with pytest.raises(ValueError, match='iteration-based'):
        tool.set_iteration_budget(epochs, 7)


def test_fold_config_subsets_the_split(data_root, tmp_path):
    """The fold's datasets, built as the Runner builds them, hold exactly
    the fold's images: WSOLDataset passes `indices` to mmengine's subset."""
    from fcam_mm.registry import DATASETS
    from fcam_mm.utils import register_all_modules
    register_all_modules()
    tool = load_tool('analysis_tools/fsl_cross_validation.py')
    cfg = Config.fromfile(CONFIG)
    cfg.train_dataloader.dataset.data_root = data_root
    cfg.test_dataloader.dataset.data_root = data_root
    labels, img_ids = tool.training_labels(cfg)
    assert len(labels) == 9 and all(i.startswith('val/') for i in img_ids)
    train, heldout = [0, 2, 3, 5, 7], [1, 4, 6, 8]
    fold = tool.fold_config(cfg, train, heldout, str(tmp_path))
    train_set = DATASETS.build(fold.train_dataloader.dataset)
    heldout_set = DATASETS.build(fold.val_dataloader.dataset)
    assert [train_set.get_data_info(i)['img_id']
            for i in range(len(train_set))] == [img_ids[i] for i in train]
    assert [heldout_set.get_data_info(i)['img_id']
            for i in range(len(heldout_set))] == \
        [img_ids[i] for i in heldout]
    # the held-out fold is read as the test split is: no training target
    assert fold.val_dataloader.dataset.pipeline == \
        cfg.test_dataloader.dataset.pipeline
    assert fold.val_evaluator == cfg.test_evaluator
    assert fold.train_cfg.val_interval == fold.train_cfg.max_iters


def test_cross_validation_end_to_end(data_root, tmp_path, capsys):
    tool = load_tool('analysis_tools/fsl_cross_validation.py')
    work_dir = str(tmp_path / 'cv')
    opts = ['train_dataloader.batch_size=4', 'test_dataloader.batch_size=9']
    for split in ('train', 'test'):
        opts += [f'{split}_dataloader.dataset.data_root={data_root}',
                 f'{split}_dataloader.num_workers=0',
                 f'{split}_dataloader.persistent_workers=False']
    result = tool.main([CONFIG, '--folds', '2', '--lr', '0.01', '0.1',
                        '--max-iters', '2', '--seed', '3', '--work-dir',
                        work_dir, '--final', '--cfg-options'] + opts)

    # folds of the 9 val images (3 classes x 3): 5 / 4, each class 2 / 1
    with open(osp.join(work_dir, 'folds.json')) as f:
        saved = json.load(f)
    folds = [np.array(f['indices']) for f in saved['folds']]
    assert sorted(np.concatenate(folds).tolist()) == list(range(9))
    assert sorted(len(f) for f in folds) == [4, 5]
    for fold in saved['folds']:
        assert sorted(fold['class_counts'].values()) in ([1, 1, 2],
                                                         [1, 2, 2])
        assert all(i.startswith('val/') for i in fold['img_ids'])

    # each fold trained on the other fold only and validated on its own
    for k, heldout in enumerate(folds):
        fold_cfg = Config.fromfile(osp.join(
            work_dir, 'lr0.01_it2', f'fold{k}', 'tinyresnet_synthetic.py'))
        assert fold_cfg.train_dataloader.dataset.indices == \
            folds[1 - k].tolist()
        assert fold_cfg.val_dataloader.dataset.indices == heldout.tolist()
        assert fold_cfg.val_dataloader.dataset.ann_file == 'metadata/val'
        assert not osp.exists(osp.join(work_dir, 'lr0.01_it2', f'fold{k}',
                                       'iter_2.pth'))

    # the table: mean and sample std of each candidate's folds, the best
    # mean MaxBoxAcc chosen (the first on ties)
    candidates = result['candidates']
    assert [(c['lr'], c['max_iters']) for c in candidates] == [(0.01, 2),
                                                               (0.1, 2)]
    means = []
    for cand in candidates:
        assert len(cand['per_fold']) == 2
        for name in ('MaxBoxAcc', 'MaxBoxAccV2', 'PxAP'):
            values = [m[f'fsl/{name}'] for m in cand['per_fold']]
            assert all(0.0 <= v <= 100.0 for v in values)
            mean, std, listed = cand['summary'][name]
            assert listed == values
            assert mean == pytest.approx(np.mean(values))
            assert std == pytest.approx(np.std(values, ddof=1))
        means.append(cand['summary']['MaxBoxAcc'][0])
    chosen = int(np.argmax(means))
    assert result['select_by'] == 'MaxBoxAcc'
    assert result['chosen'] == dict(lr=candidates[chosen]['lr'],
                                    max_iters=2)
    printed = capsys.readouterr().out
    chosen_row = [line for line in printed.splitlines() if '(chosen)' in line]
    assert len(chosen_row) == 1
    assert chosen_row[0].startswith(f'| {candidates[chosen]["lr"]:g} ')

    # --final: trained on the whole split, tested on the test split
    assert osp.isfile(osp.join(work_dir, 'final', 'iter_2.pth'))
    with open(osp.join(work_dir, 'final_test.json')) as f:
        final = json.load(f)
    assert final['test'] == result['test']
    assert {'fsl/MaxBoxAcc', 'fsl/MaxBoxAccV2', 'fsl/PxAP'} <= \
        set(final['test'])
    assert not any('top1' in key for key in final['test'])
