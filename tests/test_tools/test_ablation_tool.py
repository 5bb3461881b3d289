"""tools/analysis_tools/ablation.py: one stage-2 run per Table D.1 row from
one stage-1 checkpoint, each row's loss terms as its config says, options
passed to every row."""
import glob
import os.path as osp

from mmengine.config import Config

from .tool_helpers import REPO, load_script, load_tool, options

STAGE1 = osp.join(REPO, 'configs', 'wsol', 'cam_tinyresnet_synthetic.py')


def test_rows_train_their_terms_from_one_classifier(data_root, tmp_path,
                                                     capsys):
    load_tool('train.py').main(
        [STAGE1, '--work-dir', str(tmp_path / 'stage1')] +
        options(data_root, 1))
    stage1 = osp.join(tmp_path, 'stage1', 'epoch_1.pth')
    tool = load_script(osp.join(REPO, 'tools', 'analysis_tools',
                                'ablation.py'))
    work_dir = str(tmp_path / 'ablation')
    small = options(data_root)[1:]  # without '--cfg-options'
    small.remove('train_cfg.max_epochs=2')
    tool.main([stage1, '--data-root', data_root, '--work-dir', work_dir,
               '--stage2-epochs', '1', '--cfg-options',
               'model.seed_cfg.n_neg=0.3'] + small)
    table = open(osp.join(work_dir, 'ablation.md')).read().splitlines()
    assert [line.split(' | ')[0] for line in table[2:]] == [
        '| CAM', '| +SR', '| +SR+ASC', '| +SR+CRF', '| +SR+CRF+ASC']
    assert '| CAM |' in capsys.readouterr().out
    terms = {}
    for row in ('sr', 'sr_asc', 'sr_crf', 'sr_crf_asc'):
        dumped = glob.glob(osp.join(work_dir, row, '*.py'))
        cfg = Config.fromfile(dumped[0])
        assert cfg.model.seed_cfg.n_neg == 0.3  # the option reached it
        assert cfg.custom_hooks[0].stage1_checkpoint == stage1
        assert cfg.train_cfg.max_epochs == 1
        terms[row] = (cfg.model.get('crf_loss') is not None,
                      cfg.model.get('size_loss') is not None)
    assert terms == {'sr': (False, False), 'sr_asc': (False, True),
                     'sr_crf': (True, False), 'sr_crf_asc': (True, True)}
