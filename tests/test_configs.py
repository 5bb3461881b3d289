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
# Reference score maps with nothing to learn (the centre Gaussian): no
# classifier head, no training.
BASELINE_CONFIGS = osp.join(REPO, 'configs', 'baselines', '')
# The FSL baseline: a per-pixel segmenter (backbone + F-CAM decoder) without
# a classifier head; most leaves train on the val split, without a val loop.
FSL_CONFIGS = osp.join(REPO, 'configs', 'fsl', '')


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
    loaders = ('train_dataloader', 'val_dataloader', 'test_dataloader')
    if path.startswith(BASELINE_CONFIGS):
        assert not model.state_dict()  # nothing a checkpoint could hold
        assert cfg.train_dataloader is None
        loaders = loaders[1:]
    elif path.startswith(FSL_CONFIGS):
        assert not hasattr(model, 'head')
        assert model.decoder.out_channels == 2  # background, foreground
        if cfg.val_dataloader is None:  # Runner: all three or none
            assert cfg.val_cfg is None and cfg.val_evaluator is None
            loaders = ('train_dataloader', 'test_dataloader')
    else:
        assert model.head.num_classes >= 2
    if hasattr(model, 'decoder'):  # the decoder reads the backbone's maps
        assert model.decoder.in_channels == model.backbone.out_channels
    for loader in loaders:
        assert DATASETS.get(cfg[loader].dataset.type) is not None
    for metric in list(cfg.val_evaluator or []) + list(cfg.test_evaluator):
        assert METRICS.get(metric.type) is not None


def test_print_config_tool(capsys):
    tool = load_script(osp.join(REPO, 'tools', 'misc', 'print_config.py'))
    tool.main([osp.join(REPO, 'configs', 'fcam', 'tinyresnet_synthetic.py'),
               '--cfg-options', 'model.head.num_classes=7'])
    printed = capsys.readouterr().out
    assert "type='FCAMLocalizer'" in printed
    assert 'num_classes=7' in printed


# ------------------------------------------------ the real F-CAM configs
FCAM_BACKBONES = dict(
    # backbone: (Table F.2 row of PAPER_DECODERS, the layer with 10x lr)
    resnet50=('ResNet50', 'backbone.layer4'),
    vgg16=('VGG16', 'backbone.conv6'),
    inceptionv3=('InceptionV3', 'backbone.SPG_A3'),
)
FCAM_DATASETS = dict(
    # dataset: (classes, stage-1 epochs, stage-2 epochs, n⁻, selection
    # metric, localization metric type)
    cub=(200, 50, 50, 0.7, 'MaxBoxAcc', 'BoxLocalizationMetric'),
    openimages=(100, 10, 10, 0.1, 'PxAP', 'PixelLocalizationMetric'),
)
FCAM_METHODS = dict(
    cam='CAM', gradcam='GradCAM', gradcampp='GradCAMPlusPlus',
    smoothgradcampp='SmoothGradCAMPlusPlus', xgradcam='XGradCAM',
    layercam='LayerCAM')
FCAM_LEAVES = [(b, d, m) for b in FCAM_BACKBONES for d in FCAM_DATASETS
               for m in FCAM_METHODS]


def fcam_leaf(backbone, dataset, method):
    suffix = '' if method == 'cam' else f'_{method}'
    return osp.join(REPO, 'configs', 'fcam',
                    f'{backbone}_{dataset}{suffix}.py')


def hooks_by_type(cfg):
    return {h['type']: h for h in cfg.custom_hooks}


@pytest.mark.parametrize('backbone, dataset, method', FCAM_LEAVES,
                         ids=['_'.join(leaf) for leaf in FCAM_LEAVES])
def test_fcam_config_key_facts(backbone, dataset, method):
    from fcam_mm.models.decoders import PAPER_DECODERS
    from fcam_mm.models.utils.sampling_regions import check_seed_cfg
    paper_name, new_layers = FCAM_BACKBONES[backbone]
    classes, epochs1, epochs2, n_neg, selection, loc_metric = \
        FCAM_DATASETS[dataset]
    cfg = Config.fromfile(fcam_leaf(backbone, dataset, method))
    model = cfg.model
    assert model.type == 'FCAMLocalizer'
    assert model.cam.type == FCAM_METHODS[method]
    assert model.head.num_classes == classes
    # Decoder: Table F.2 (channels, VGG16's centre block).
    paper = next(d for d in PAPER_DECODERS if d['name'] == paper_name)
    assert tuple(model.decoder.in_channels) == paper['in_channels']
    assert tuple(model.decoder.decoder_channels) == \
        paper['decoder_channels']
    assert model.decoder.get('center_block', False) == paper['center_block']
    # Loss weights (DESIGN.md §5, the authors' CUB recipe).
    assert model.seed_loss.loss_weight == 1.0  # α ∈ {1, 0.1}
    assert (model.crf_loss.loss_weight, model.crf_loss.sigma_rgb,
            model.crf_loss.sigma_xy, model.crf_loss.scale_factor) == \
        (2e-9, 15.0, 100.0, 1.0)
    assert model.size_loss.loss_weight == 0.1
    # n⁻ on the paper's grid {0.1, ..., 0.7}: large on CUB, small on
    # OpenImages; one seed of 3x3 per region, C+ eroded by 11x11.
    assert model.seed_cfg.n_neg == n_neg
    assert any(abs(model.seed_cfg.n_neg - k / 10) < 1e-12
               for k in range(1, 8))
    assert (model.seed_cfg.num_pos, model.seed_cfg.num_neg,
            model.seed_cfg.erode_kernel, model.seed_cfg.seed_size) == \
        (1, 1, 11, 3)
    check_seed_cfg(model.seed_cfg)
    # Stage 1 is exactly the stage-1 recipe of the configs/wsol leaf
    # (optimizer, lr multipliers, step schedule), ending at the switch.
    wsol = Config.fromfile(osp.join(REPO, 'configs', 'wsol',
                                    f'{method}_{backbone}_{dataset}.py'))
    assert cfg.optim_wrapper.to_dict() == wsol.optim_wrapper.to_dict()
    assert cfg.optim_wrapper.optimizer.lr == 0.0017
    assert cfg.optim_wrapper.paramwise_cfg.custom_keys.to_dict() == {
        'head': dict(lr_mult=10.0), new_layers: dict(lr_mult=10.0)}
    scheduler = dict(cfg.param_scheduler)
    assert scheduler.pop('end') == epochs1
    assert scheduler == dict(wsol.param_scheduler)
    assert wsol.train_cfg.max_epochs == epochs1
    # Two stages in one run: switch, stage-2 lr and the t schedule.
    assert cfg.train_cfg.max_epochs == epochs1 + epochs2
    hooks = hooks_by_type(cfg)
    stage = hooks['FCAMStageHook']
    assert stage.switch_epoch == epochs1 and stage.stage2_lr == 0.01
    assert stage.get('stage1_checkpoint') is None
    barrier = hooks['LogBarrierHook']
    assert (barrier.init_t, barrier.factor, barrier.max_t,
            barrier.start_epoch) == (1.0, 1.01, 10.0, epochs1)
    # Model selection on val: the CAM in stage 1, F-CAM in stage 2, with
    # the metric the dataset is evaluated with; both maps evaluated.
    keys = [f'cam/{selection}', f'fcam/{selection}']
    assert list(cfg.default_hooks.checkpoint.save_best) == keys
    assert (stage.stage1_key, stage.stage2_key) == tuple(keys)
    assert [(e.type, e.get('map_key'), e.prefix)
            for e in cfg.val_evaluator] == [
                (loc_metric, 'cam', 'cam'), (loc_metric, 'fcam', 'fcam'),
                ('ClassificationMetric', None, 'cls')]
    assert cfg.test_evaluator == cfg.val_evaluator
    assert cfg.find_unused_parameters is True
    # The CAM-method leaves are a few lines that only swap the CAM.
    if method != 'cam':
        lines = [line for line in open(fcam_leaf(backbone, dataset, method))
                 if line.strip() and not line.startswith('#')]
        assert len(lines) <= 3
        base = Config.fromfile(fcam_leaf(backbone, dataset, 'cam'))
        base.model.cam.type = FCAM_METHODS[method]
        assert base.to_dict() == cfg.to_dict()


@pytest.mark.parametrize('backbone', FCAM_BACKBONES)
@pytest.mark.parametrize('dataset', FCAM_DATASETS)
def test_fcam_stage2_only_configs(backbone, dataset):
    _, epochs1, epochs2, _, selection, _ = FCAM_DATASETS[dataset]
    both = Config.fromfile(fcam_leaf(backbone, dataset, 'cam'))
    cfg = Config.fromfile(osp.join(REPO, 'configs', 'fcam',
                                   f'{backbone}_{dataset}_stage2.py'))
    assert cfg.train_cfg.max_epochs == epochs2
    assert cfg.param_scheduler == []
    hooks = hooks_by_type(cfg)
    assert hooks['FCAMStageHook'].switch_epoch == 0
    assert hooks['FCAMStageHook'].stage1_checkpoint is None  # one option
    assert hooks['FCAMStageHook'].stage2_lr == 0.01
    assert (hooks['FCAMStageHook'].stage1_key,
            hooks['FCAMStageHook'].stage2_key) == (f'cam/{selection}',
                                                    f'fcam/{selection}')
    assert hooks['LogBarrierHook'].start_epoch == 0
    assert cfg.model.backbone.init_cfg is None
    # Everything else is the two-stage config's.
    for key in ('val_evaluator', 'optim_wrapper', 'default_hooks',
                'train_dataloader'):
        assert cfg[key] == both[key]
    both.model.backbone.init_cfg = None
    assert cfg.model == both.model
    # Without the checkpoint the stage hook explains what is missing when
    # training starts (tools/test.py builds it too, and needs none).
    from fcam_mm.registry import HOOKS
    with pytest.raises(ValueError, match='stage1_checkpoint'):
        HOOKS.build(hooks['FCAMStageHook']).before_train(runner=None)
    hooks['FCAMStageHook'].stage1_checkpoint = 'stage1.pth'
    assert HOOKS.build(hooks['FCAMStageHook']).switch_epoch == 0


def test_stage1_scheduler_ends_at_the_switch():
    """The stage-1 StepLR stops at the switch epoch, so the lr that
    FCAMStageHook sets for stage 2 stays constant."""
    import torch
    from mmengine.optim.scheduler import StepLR
    cfg = Config.fromfile(fcam_leaf('resnet50', 'cub', 'cam'))
    params = dict(cfg.param_scheduler)
    params.pop('type')
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.ones(1))],
                                lr=cfg.optim_wrapper.optimizer.lr)
    scheduler = StepLR(optimizer, **params)
    lrs = []
    for epoch in range(cfg.train_cfg.max_epochs):
        if epoch == hooks_by_type(cfg)['FCAMStageHook'].switch_epoch:
            optimizer.param_groups[0]['lr'] = 0.01  # what the hook does
        lrs.append(optimizer.param_groups[0]['lr'])
        optimizer.step()
        scheduler.step()
    expected = [0.0017 * 0.1**(e // 15) for e in range(50)] + [0.01] * 50
    assert lrs == pytest.approx(expected, rel=1e-9)


def test_every_config_checks_for_invalid_losses():
    for path in LEAF_CONFIGS:
        cfg = Config.fromfile(path)
        assert cfg.default_hooks.check_invalid_loss.type == \
            'CheckInvalidLossHook', path


def doc_config_examples():
    """``(path, code)`` of every Python block of docs/configs.md whose first
    line names a file under configs/."""
    import re
    text = open(osp.join(REPO, 'docs', 'configs.md')).read()
    blocks = re.findall(r'```python\n(.*?)```', text, flags=re.S)
    return [(block.split('\n', 1)[0][2:].strip(), block)
            for block in blocks if block.startswith('# configs/')]


def code_lines(text):
    return [line.rstrip() for line in text.splitlines()
            if line.strip() and not line.lstrip().startswith('#')]


def test_docs_config_examples_build(tmp_path):
    examples = doc_config_examples()
    assert len(examples) >= 8
    for path, code in examples:
        full = osp.join(REPO, path)
        if not osp.basename(path).startswith('my_'):
            # an example said to exist is that file, line for line
            assert code_lines(code) == code_lines(open(full).read()), path
            cfg = Config.fromfile(full)
        else:
            assert not osp.exists(full), path
            here = osp.dirname(full)
            code = code.replace("'./", f"'{here}/").replace(
                "'../", f"'{osp.dirname(here)}/")
            leaf = tmp_path / osp.basename(path)
            leaf.write_text(code)
            cfg = Config.fromfile(str(leaf))
        model = MODELS.build(without_downloads(cfg).model)
        widths = model.backbone.out_channels
        assert model.head.in_channels == widths[-1], path
        if hasattr(model, 'decoder'):
            assert model.decoder.in_channels == widths, path
