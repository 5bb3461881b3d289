"""The centre-Gaussian baseline through the tools, on the small synthetic
split: tools/test.py without a checkpoint, and the sigma tool."""
import math
import os.path as osp
import pickle

import pytest
from mmengine.config import Config

from .tool_helpers import REPO, load_tool

CONFIG = osp.join(REPO, 'configs', 'baselines',
                  'center_gaussian_synthetic.py')
STAGE1 = osp.join(REPO, 'configs', 'wsol', 'cam_tinyresnet_synthetic.py')
KEYS = ('cam/MaxBoxAcc', 'cam/MaxBoxAccV2', 'cam/PxAP')


def eval_options(data_root, *extra):
    """Point val/test at the small split (the baseline has no train
    loader, so none is set)."""
    opts = []
    for split in ('val', 'test'):
        opts += [
            f'{split}_dataloader.dataset.data_root={data_root}',
            f'{split}_dataloader.batch_size=4',
            f'{split}_dataloader.num_workers=0',
            f'{split}_dataloader.persistent_workers=False',
        ]
    return ['--cfg-options'] + opts + list(extra)


def test_tools_test_without_checkpoint(data_root, tmp_path):
    out = str(tmp_path / 'preds.pkl')
    metrics = load_tool('test.py').main(
        [CONFIG, '--work-dir', str(tmp_path), '--out', out] +
        eval_options(data_root))
    for key in KEYS:
        assert 0.0 <= metrics[key] <= 100.0, key
    assert metrics['cam/gt_known'] == metrics['cam/MaxBoxAcc']
    # no classifier: no class-based key, not even as a zero
    assert not [k for k in metrics if 'top' in k or k.startswith('cls/')]
    with open(out, 'rb') as f:
        predictions = pickle.load(f)
    assert len(predictions) == 9  # 3 classes x 3 test images
    sigma = Config.fromfile(CONFIG).model.sigma
    for p in predictions:
        assert 'pred_score' not in p
        height, width = p['img_shape']
        assert tuple(p['cam'].shape) == (height, width) == (128, 128)
    # the formula, by hand, at a few pixels of the 128 x 128 input
    cam = predictions[0]['cam'].numpy()
    for y, x in ((64, 64), (10, 100), (127, 0)):
        u, v = (x + 0.5) / 128 - 0.5, (y + 0.5) / 128 - 0.5
        assert cam[y, x] == pytest.approx(
            math.exp(-(u * u + v * v) / (2 * sigma ** 2)), rel=1e-6)


def test_tools_test_needs_a_checkpoint_for_a_trained_model(tmp_path):
    with pytest.raises(ValueError,
                       match=r'cam_tinyresnet_synthetic\.py: no checkpoint '
                       r'given, but its model \(WSOLLocalizer\) has'):
        load_tool('test.py').main([STAGE1, '--work-dir', str(tmp_path)])
    # DistributedDataParallel cannot wrap a model without parameters: said
    # before any process group starts
    with pytest.raises(ValueError, match='tested in one process'):
        load_tool('test.py').main([CONFIG, '--work-dir', str(tmp_path),
                                   '--launcher', 'pytorch'])


def test_sigma_tool_table_matches_the_runner(data_root, tmp_path, capsys):
    """The tool's single pass over val for three sigmas gives, per sigma,
    exactly what tools/test.py reports for that sigma on the same split."""
    tool = load_tool('analysis_tools/center_gaussian_sigma.py')
    out = tool.main([CONFIG, '--sigmas', '1.0', '0.05', '0.25'] +
                    eval_options(data_root))
    printed = capsys.readouterr().out
    assert list(out['results']) == [0.05, 0.25, 1.0]  # sorted
    assert out['columns'] == dict(zip(('MaxBoxAcc', 'MaxBoxAccV2', 'PxAP'),
                                      KEYS))
    assert out['select_by'] == 'MaxBoxAcc'
    assert '| sigma | MaxBoxAcc | MaxBoxAccV2 | PxAP |' in printed
    for sigma, metrics in out['results'].items():
        row = (f'| {sigma:g} | {metrics[KEYS[0]]:.2f}'
               f'{"*" if out["best"]["MaxBoxAcc"][0] == sigma else ""} |')
        assert row in printed, row
        # the same split through the runner: the val metadata as test
        runner_metrics = load_tool('test.py').main(
            [CONFIG, '--work-dir', str(tmp_path)] + eval_options(
                data_root, f'model.sigma={sigma}',
                'test_dataloader.dataset.ann_file=metadata/val'))
        for key in KEYS:
            assert runner_metrics[key] == metrics[key], (sigma, key)
    selected = out['selected']
    assert f'sigma={selected:g}' in printed.splitlines()[-1]
    best = max(m[KEYS[0]] for m in out['results'].values())
    assert out['results'][selected][KEYS[0]] == best


def test_sigma_selection_breaks_ties_by_the_other_columns():
    tool = load_tool('analysis_tools/center_gaussian_sigma.py')
    columns = dict(MaxBoxAcc='b', MaxBoxAccV2='v', PxAP='p')
    results = {
        0.1: dict(b=30.0, v=40.0, p=50.0),
        0.2: dict(b=33.0, v=35.0, p=43.2),
        0.3: dict(b=33.0, v=35.0, p=43.3),
        0.4: dict(b=33.0, v=35.0, p=43.3),
    }
    assert tool.select_sigma(results, columns, 'MaxBoxAcc') == 0.3
    assert tool.select_sigma(results, columns, 'PxAP') == 0.1
    best = tool.best_sigmas(results, columns)
    assert best == dict(MaxBoxAcc=(0.2, 33.0), MaxBoxAccV2=(0.1, 40.0),
                        PxAP=(0.1, 50.0))


def test_sigma_tool_refuses_other_models():
    tool = load_tool('analysis_tools/center_gaussian_sigma.py')
    with pytest.raises(ValueError, match='not CenterGaussianLocalizer'):
        tool.main([STAGE1, '--sigmas', '0.25'])
