"""The real configs/fcam/resnet50_cub.py (ResNet50 WSOL + Table F.2 decoder,
the paper's losses and hooks) runs both stages through tools/train.py, and
its stage-2-only leaf starts from the stage-1 checkpoint it is given — on a
few tiny synthetic images, with only sizes, epochs and paths overridden."""
import glob
import os.path as osp

import pytest
import torch

from tests.test_tools.tool_helpers import REPO, load_tool

SIZE = 32


@pytest.fixture(scope='module')
def tiny_cub(tmp_path_factory):
    """2 classes, 2 train / 1 val / 1 test image per class, CUB layout
    (images/, metadata/{split}/localization.txt with boxes)."""
    from fcam_mm.datasets.synthetic import generate_synthetic_dataset
    root = str(tmp_path_factory.mktemp('tiny_cub'))
    generate_synthetic_dataset(root, seed=5, num_classes=2,
                               per_class=dict(train=2, val=1, test=1))
    return root


def small_run(data_root, *extra):
    opts = ['model.head.num_classes=2', 'model.backbone.init_cfg=None',
            'default_hooks.logger.interval=1',
            'default_hooks.checkpoint.max_keep_ckpts=-1',
            f'train_dataloader.dataset.pipeline.1.scale=({SIZE + 4},'
            f'{SIZE + 4})',
            f'train_dataloader.dataset.pipeline.2.crop_size={SIZE}']
    for split in ('val', 'test'):
        opts.append(f'{split}_dataloader.dataset.pipeline.2.scale=({SIZE},'
                    f'{SIZE})')
    for split in ('train', 'val', 'test'):
        opts += [f'{split}_dataloader.dataset.data_root={data_root}',
                 f'{split}_dataloader.batch_size=4',
                 f'{split}_dataloader.num_workers=0',
                 f'{split}_dataloader.persistent_workers=False']
    return ['--cfg-options'] + opts + list(extra)


def classifier(state_dict):
    return {k: v for k, v in state_dict.items()
            if k.startswith(('backbone.', 'head.'))}


@pytest.mark.slow  # ~30 s on 2 CPU cores: two ResNet50 builds, 3 evaluations
def test_resnet50_cub_both_stages_then_stage2_alone(tiny_cub, tmp_path):
    train = load_tool('train.py')
    work_dir = str(tmp_path / 'both')
    config = osp.join(REPO, 'configs', 'fcam', 'resnet50_cub.py')
    runner = train.main([config, '--work-dir', work_dir] + small_run(
        tiny_cub, 'train_cfg.max_epochs=2', 'custom_hooks.0.switch_epoch=1',
        'custom_hooks.1.start_epoch=1', 'param_scheduler.end=1'))
    model = runner.model
    assert model.stage == 2
    assert not any(p.requires_grad for p in model.backbone.parameters())
    best = glob.glob(osp.join(work_dir, 'best_cam_MaxBoxAcc_epoch_1.pth'))
    assert len(best) == 1
    # the frozen classifier of stage 2 is the selected stage-1 one
    selected = classifier(torch.load(best[0])['state_dict'])
    final = classifier(torch.load(osp.join(work_dir,
                                           'epoch_2.pth'))['state_dict'])
    assert all(torch.equal(selected[k], final[k]) for k in selected)
    log = open(sorted(glob.glob(osp.join(work_dir, '*', '*.log')))[-1]).read()
    assert 'FCAMStageHook: stage 2 starts from the classifier of' in log
    for key in ('loss_seed', 'loss_crf', 'loss_size', 'cam/MaxBoxAcc',
                'fcam/MaxBoxAcc', 'cls/top1'):
        assert key in log, key

    # Stage 2 alone from that checkpoint: one option.
    stage2_dir = str(tmp_path / 'stage2')
    config = osp.join(REPO, 'configs', 'fcam', 'resnet50_cub_stage2.py')
    runner = train.main([config, '--work-dir', stage2_dir] + small_run(
        tiny_cub, 'train_cfg.max_epochs=1',
        f'custom_hooks.0.stage1_checkpoint={best[0]}'))
    assert runner.model.stage == 2
    after = classifier(runner.model.state_dict())
    assert all(torch.equal(selected[k], after[k]) for k in selected)
