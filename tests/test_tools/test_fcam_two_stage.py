"""Both F-CAM stages in one run through tools/train.py: the switch restores
the selected stage-1 classifier and freezes it, the decoder trains, and a
resume lands in the right stage."""
import glob
import os.path as osp

import torch

from .tool_helpers import REPO, load_tool, options, runner_log

CONFIG = osp.join(REPO, 'configs', 'fcam', 'tinyresnet_synthetic.py')
STAGE2 = osp.join(REPO, 'configs', 'fcam', 'tinyresnet_synthetic_stage2.py')


def two_stage_options(data_root, stage1, stage2, *extra):
    total = stage1 + stage2
    return options(
        data_root, total, f'custom_hooks.0.switch_epoch={stage1}',
        f'custom_hooks.1.start_epoch={stage1}',
        f'param_scheduler.1.end={stage1}', f'param_scheduler.1.T_max={stage1}',
        'default_hooks.checkpoint.max_keep_ckpts=-1', *extra)


def state(path):
    return torch.load(path, map_location='cpu')['state_dict']


def split(state_dict):
    classifier = {k: v for k, v in state_dict.items()
                  if k.startswith(('backbone.', 'head.'))}
    decoder = {k: v for k, v in state_dict.items()
               if k.startswith('decoder.')}
    return classifier, decoder


def same(a, b):
    return all(torch.equal(a[k], b[k]) for k in a)


def test_two_stages_switch_freeze_and_resume(data_root, tmp_path):
    work_dir = str(tmp_path / 'fcam')
    train = load_tool('train.py')
    runner = train.main([CONFIG, '--work-dir', work_dir] +
                        two_stage_options(data_root, 2, 2))
    model = runner.model
    assert model.stage == 2
    assert not any(p.requires_grad for p in model.backbone.parameters())
    assert all(not m.training for m in model.backbone.modules())

    best_stage1 = glob.glob(osp.join(work_dir, 'best_cam_MaxBoxAcc_*.pth'))
    assert len(best_stage1) == 1
    classifier1, decoder1 = split(state(best_stage1[0]))
    classifier3, decoder3 = split(state(osp.join(work_dir, 'epoch_3.pth')))
    classifier4, decoder4 = split(state(osp.join(work_dir, 'epoch_4.pth')))
    # Stage 2 starts from the selected stage-1 classifier and never changes
    # it (weights and BatchNorm statistics); the decoder does train.
    assert same(classifier1, classifier3) and same(classifier1, classifier4)
    assert not same(decoder3, decoder4)
    # The stage-1 decoder was never updated: stage 1 leaves it as built.
    epoch1_classifier, epoch1_decoder = split(
        state(osp.join(work_dir, 'epoch_1.pth')))
    epoch2_classifier, epoch2_decoder = split(
        state(osp.join(work_dir, 'epoch_2.pth')))
    assert same(epoch1_decoder, epoch2_decoder)
    assert not same(epoch1_classifier, epoch2_classifier)
    logs = sorted(glob.glob(osp.join(work_dir, '*', '*.log')))
    log = open(logs[-1]).read()
    assert 'FCAMStageHook: stage 2 starts from the classifier of' in log
    assert 'loss_crf' in log and 'loss_seed' in log and 'loss_size' in log

    # Resume from the stage-2 checkpoint of epoch 3: stage 2 again, with
    # the classifier still the selected one.
    runner = train.main([CONFIG, '--work-dir', work_dir, '--resume',
                         osp.join(work_dir, 'epoch_3.pth')] +
                        two_stage_options(data_root, 2, 3))
    assert runner.model.stage == 2
    classifier5, _ = split(state(osp.join(work_dir, 'epoch_5.pth')))
    assert same(classifier1, classifier5)
    size_loss = runner.model.size_loss
    # t of the last epoch (index 4) is 1.01^(4 - switch epoch 2).
    assert size_loss.t == 1.01**2

    # The stage-2-only config tests an F-CAM checkpoint like the two-stage
    # one (its stage hook wants stage1_checkpoint for training only).
    test = load_tool('test.py')
    checkpoint = osp.join(work_dir, 'epoch_5.pth')
    metrics = [
        test.main([config, checkpoint, '--work-dir', str(tmp_path / name)] +
                  options(data_root))
        for name, config in (('both', CONFIG), ('stage2', STAGE2))
    ]
    assert metrics[0] == metrics[1]
    assert 'fcam/MaxBoxAcc' in metrics[1]


def test_amp_trains_both_stages_in_bfloat16_on_cpu(data_root, tmp_path):
    """--amp without CUDA: bfloat16 autocast (AutocastOptimWrapper) through
    both stages; the decoder runs in bfloat16, its losses in float32."""
    import math
    import re

    from fcam_mm.engine.optimizers import AutocastOptimWrapper
    work_dir = str(tmp_path / 'amp')
    runner = load_tool('train.py').main(
        [CONFIG, '--work-dir', work_dir, '--amp'] +
        two_stage_options(data_root, 1, 1))
    assert isinstance(runner.optim_wrapper, AutocastOptimWrapper)
    assert runner.optim_wrapper.cast_dtype == torch.bfloat16
    model = runner.model
    assert model.stage == 2
    log = runner_log(runner)
    stage2 = log.split('FCAMStageHook: stage 2 (decoder)')[1]
    values = [float(v) for v in
              re.findall(r'loss_(?:crf|seed|size): (\S+)', stage2)]
    assert values and all(math.isfinite(v) for v in values)

    batch = next(iter(runner.train_loop.dataloader))
    data = model.data_preprocessor(batch, True)
    with runner.optim_wrapper.optim_context(model):
        feats = model.extract_feat(data['inputs'])
        logits = model.decoder(feats, data['inputs'].shape[-2:])
        losses = model.loss(data['inputs'], data['data_samples'])
    assert logits.dtype == torch.bfloat16
    for name in ('loss_seed', 'loss_crf', 'loss_size'):
        assert losses[name].dtype == torch.float32, name


def test_amp_refuses_a_config_with_its_own_optim_wrapper(data_root,
                                                         tmp_path):
    import pytest
    with pytest.raises(ValueError, match='optim_wrapper.type=MyWrapper'):
        load_tool('train.py').main(
            [CONFIG, '--work-dir', str(tmp_path), '--amp'] +
            options(data_root, 1, 'optim_wrapper.type=MyWrapper'))
