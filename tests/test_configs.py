"""Every leaf config parses, builds its model and names registered types."""
import glob
import os.path as osp

import pytest
from mmengine.config import Config

from fcam_mm.registry import DATASETS, METRICS, MODELS
from fcam_mm.utils import load_script

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
LEAF_CONFIGS = sorted(
    p for p in glob.glob(osp.join(REPO, 'configs', '**', '*.py'),
                         recursive=True) if '_base_' not in p)


def without_downloads(cfg):
    """Drop pretrained-weight initialisation (no network in tests)."""
    for module in (cfg.model.get('backbone', {}), cfg.model):
        if isinstance(module, dict) and 'init_cfg' in module:
            module['init_cfg'] = None
    return cfg


@pytest.mark.parametrize('path', LEAF_CONFIGS,
                         ids=[osp.relpath(p, REPO) for p in LEAF_CONFIGS])
def test_leaf_config_builds(path):
    cfg = without_downloads(Config.fromfile(path))
    model = MODELS.build(cfg.model)
    assert model.head.num_classes >= 2
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        assert DATASETS.get(cfg[loader].dataset.type) is not None
    for metric in cfg.val_evaluator:
        assert METRICS.get(metric.type) is not None


def test_print_config_tool(capsys):
    tool = load_script(osp.join(REPO, 'tools', 'misc', 'print_config.py'))
    tool.main([osp.join(REPO, 'configs', 'fcam', 'tinyresnet_synthetic.py'),
               '--cfg-options', 'model.head.num_classes=7'])
    printed = capsys.readouterr().out
    assert "type='FCAMLocalizer'" in printed
    assert 'num_classes=7' in printed
