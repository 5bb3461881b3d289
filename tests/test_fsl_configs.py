"""The FSL baseline's configs state what docs/fsl_baseline.md says: the
WSOL backbones and F-CAM decoders, the val split with its full labels as
the training data, the target per dataset, the geometric transforms of the
WSOL training pipeline, the schedule, and the classifier-free metrics."""
import os.path as osp

import pytest
from mmengine.config import Config

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
FSL = osp.join(REPO, 'configs', 'fsl')
BACKBONES = ('resnet50', 'vgg16', 'inceptionv3')
DATASETS = dict(
    # dataset: (target, localization metric types, iterations)
    cub=('boxes', ['BoxLocalizationMetric'], 1600),
    openimages=('mask', ['PixelLocalizationMetric'], 800),
)
LEAVES = [(b, d) for b in BACKBONES for d in DATASETS]


def load(name):
    return Config.fromfile(osp.join(FSL, f'{name}.py'))


def step(pipeline, kind):
    found = [t for t in pipeline if t['type'] == kind]
    assert len(found) == 1, (kind, pipeline)
    return found[0]


def geometric(pipeline):
    return [t for t in pipeline
            if t['type'] in ('Resize', 'RandomCrop', 'RandomFlip')]


def check_iteration_schedule(cfg, iterations):
    assert cfg.train_cfg.type == 'IterBasedTrainLoop'
    assert cfg.train_cfg.max_iters == iterations
    (poly, ) = cfg.param_scheduler
    assert (poly.type, poly.by_epoch, poly.eta_min, poly.end) == \
        ('PolyLR', False, 0.0, iterations)
    assert cfg.train_dataloader.sampler.type == 'InfiniteSampler'
    assert cfg.default_hooks.checkpoint.by_epoch is False
    assert cfg.default_hooks.checkpoint.save_best is None
    assert cfg.log_processor.by_epoch is False


def check_trains_on_val_only(cfg, target):
    dataset = cfg.train_dataloader.dataset
    assert dataset.ann_file == 'metadata/val'
    assert step(dataset.pipeline, 'LoadWSOLAnnotations').seg_target == \
        target
    assert cfg.test_dataloader.dataset.ann_file == 'metadata/test'
    # no validation loop: the val split is the training data
    assert cfg.val_dataloader is None and cfg.val_cfg is None
    assert cfg.val_evaluator is None


def check_classifier_free_metrics(evaluators, types):
    assert [e.type for e in evaluators] == types
    for metric in evaluators:
        assert (metric.map_key, metric.prefix) == ('fcam', 'fsl')
        if metric.type == 'BoxLocalizationMetric':
            assert tuple(metric.topk) == ()


@pytest.mark.parametrize('backbone, dataset', LEAVES,
                         ids=['_'.join(leaf) for leaf in LEAVES])
def test_real_dataset_leaves(backbone, dataset):
    target, metrics, iterations = DATASETS[dataset]
    cfg = load(f'{backbone}_{dataset}')
    fcam = Config.fromfile(osp.join(REPO, 'configs', 'fcam',
                                    f'{backbone}_{dataset}.py'))
    wsol = Config.fromfile(osp.join(REPO, 'configs', 'wsol',
                                    f'cam_{backbone}_{dataset}.py'))
    assert cfg.model.type == 'FSLSegmenter'
    # the WSOL backbone with its ImageNet weights, the F-CAM decoder
    assert cfg.model.backbone == wsol.model.backbone
    assert cfg.model.backbone.init_cfg.checkpoint.startswith('torchvision://')
    assert cfg.model.decoder == fcam.model.decoder
    assert cfg.model.data_preprocessor == fcam.model.data_preprocessor
    assert (cfg.model.loss.type, cfg.model.loss.ignore_index) == \
        ('PartialCrossEntropyLoss', 255)
    assert not cfg.model.get('freeze_backbone', False)
    check_trains_on_val_only(cfg, target)
    # the WSOL training augmentation, the dataset's test pipeline
    assert geometric(cfg.train_dataloader.dataset.pipeline) == \
        geometric(wsol.train_dataloader.dataset.pipeline)
    assert cfg.test_dataloader == wsol.test_dataloader
    check_classifier_free_metrics(cfg.test_evaluator, metrics)
    check_iteration_schedule(cfg, iterations)
    assert cfg.train_dataloader.batch_size == 32
    assert (cfg.optim_wrapper.optimizer.type, cfg.optim_wrapper.optimizer.lr,
            cfg.optim_wrapper.optimizer.momentum,
            cfg.optim_wrapper.optimizer.weight_decay) == ('SGD', 0.01, 0.9,
                                                          1e-4)
    assert cfg.optim_wrapper.paramwise_cfg.custom_keys.to_dict() == {
        'backbone': dict(lr_mult=0.1)}


def test_synthetic_leaf():
    cfg = load('tinyresnet_synthetic')
    wsol = Config.fromfile(osp.join(REPO, 'configs', 'wsol',
                                    'cam_tinyresnet_synthetic.py'))
    fcam = Config.fromfile(osp.join(REPO, 'configs', 'fcam',
                                    'tinyresnet_synthetic.py'))
    assert cfg.model.type == 'FSLSegmenter'
    assert cfg.model.backbone.type == wsol.model.backbone.type
    # the WSOL classifier's start (the shipped ImageNet stand-in), one
    # option away from another checkpoint
    assert cfg.model.backbone.init_cfg == wsol.model.backbone.init_cfg
    assert cfg.model.backbone.init_cfg.prefix == 'backbone.'
    assert osp.isfile(cfg.model.backbone.init_cfg.checkpoint)
    assert cfg.model.decoder == fcam.model.decoder
    check_trains_on_val_only(cfg, 'mask')
    dataset = cfg.train_dataloader.dataset
    assert (dataset.box_file, dataset.mask_file) == (
        'localization.txt', 'localization_mask.txt')
    assert geometric(dataset.pipeline) == \
        geometric(wsol.train_dataloader.dataset.pipeline)
    check_classifier_free_metrics(
        cfg.test_evaluator,
        ['BoxLocalizationMetric', 'PixelLocalizationMetric'])
    check_iteration_schedule(cfg, 300)
    assert cfg.train_dataloader.batch_size == 8


def test_backbone_checkpoint_is_one_command_line_option():
    # what --cfg-options model.backbone.init_cfg.checkpoint=... merges
    cfg = load('tinyresnet_synthetic')
    cfg.merge_from_dict({'model.backbone.init_cfg.checkpoint': 'stage1.pth'})
    assert cfg.model.backbone.init_cfg == dict(
        type='Pretrained', checkpoint='stage1.pth', prefix='backbone.')


def test_frozen_stage1_diagnostic():
    cfg = load('tinyresnet_synthetic_frozen_stage1')
    fcam = Config.fromfile(osp.join(REPO, 'configs', 'fcam',
                                    'tinyresnet_synthetic.py'))
    stage2 = next(h for h in fcam.custom_hooks
                  if h.type == 'FCAMStageHook')
    assert cfg.model.freeze_backbone is True
    assert cfg.model.backbone.init_cfg.prefix == 'backbone.'
    assert cfg.model.decoder == fcam.model.decoder
    # the train split's masks, stage 2's data and budget
    dataset = cfg.train_dataloader.dataset
    assert dataset.ann_file == fcam.train_dataloader.dataset.ann_file == \
        'metadata/train'
    assert step(dataset.pipeline, 'LoadWSOLAnnotations').seg_target == 'mask'
    assert geometric(dataset.pipeline) == \
        geometric(fcam.train_dataloader.dataset.pipeline)
    assert cfg.train_dataloader.batch_size == \
        fcam.train_dataloader.batch_size
    assert cfg.train_cfg.max_epochs == \
        fcam.train_cfg.max_epochs - stage2.switch_epoch
    assert cfg.optim_wrapper.optimizer.lr == stage2.stage2_lr
    assert cfg.param_scheduler == []
    # selected on val, tested on test, by the decoder's map
    assert cfg.val_dataloader.dataset.ann_file == 'metadata/val'
    assert cfg.test_dataloader.dataset.ann_file == 'metadata/test'
    assert cfg.default_hooks.checkpoint.save_best == 'fsl/MaxBoxAcc'
    check_classifier_free_metrics(
        cfg.val_evaluator,
        ['BoxLocalizationMetric', 'PixelLocalizationMetric'])
    assert cfg.test_evaluator == cfg.val_evaluator
