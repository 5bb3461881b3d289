"""Reading the best checkpoint of a metric from mmengine's CheckpointHook:
the message-hub keys differ between one tracked metric and several."""
import math
from types import SimpleNamespace

import pytest
from mmengine.hooks import CheckpointHook
from mmengine.logging import MessageHub

from fcam_mm.engine.best_checkpoint import (best_checkpoint, best_info_keys,
                                            reset_best_score)
from fcam_mm.engine.hooks import FCAMStageHook


def fake_runner(name, save_best, rule=None):
    hook = CheckpointHook(save_best=save_best, rule=rule)
    return SimpleNamespace(hooks=[hook], work_dir='/nowhere',
                           message_hub=MessageHub.get_instance(name))


def test_one_tracked_metric_uses_the_plain_keys():
    runner = fake_runner('best-one', 'fcam/MaxBoxAcc')
    assert best_info_keys(runner, 'fcam/MaxBoxAcc') == (
        'best_ckpt', 'best_score', 'greater')
    runner.message_hub.update_info('best_ckpt', 'a.pth')
    assert best_checkpoint(runner, 'fcam/MaxBoxAcc') == 'a.pth'


def test_several_tracked_metrics_use_per_metric_keys():
    runner = fake_runner('best-two', ['cam/MaxBoxAcc', 'fcam/MaxBoxAcc'])
    assert best_info_keys(runner, 'cam/MaxBoxAcc')[:2] == (
        'best_ckpt_cam/MaxBoxAcc', 'best_score_cam/MaxBoxAcc')
    # A stale plain key (from another metric) is never taken instead.
    runner.message_hub.update_info('best_ckpt', 'other.pth')
    assert best_checkpoint(runner, 'cam/MaxBoxAcc') is None
    with pytest.raises(RuntimeError, match='no best cam/MaxBoxAcc'):
        best_checkpoint(runner, 'cam/MaxBoxAcc', required=True)
    runner.message_hub.update_info('best_ckpt_cam/MaxBoxAcc', 'c.pth')
    assert best_checkpoint(runner, 'cam/MaxBoxAcc', required=True) == 'c.pth'


def test_reset_follows_the_rule():
    runner = fake_runner('best-rule', ['loss', 'acc'], rule=['less',
                                                             'greater'])
    reset_best_score(runner, 'loss')
    reset_best_score(runner, 'acc')
    assert runner.message_hub.get_info('best_score_loss') == math.inf
    assert runner.message_hub.get_info('best_score_acc') == -math.inf


def test_untracked_metric_is_named_with_the_tracked_ones():
    runner = fake_runner('best-untracked', ['cam/MaxBoxAcc'])
    with pytest.raises(KeyError, match=r"'fcam/PxAP'.*cam/MaxBoxAcc"):
        best_info_keys(runner, 'fcam/PxAP')
    runner.hooks = []
    with pytest.raises(RuntimeError, match='no CheckpointHook'):
        best_info_keys(runner, 'cam/MaxBoxAcc')


def test_stage_hook_checks_its_metrics_before_training():
    """A stage hook whose stage-1 metric is not tracked fails in
    before_train, not after the whole of stage 1."""
    runner = fake_runner('best-stage', ['fcam/MaxBoxAcc'])
    runner.model = SimpleNamespace(set_stage=lambda stage: None)
    runner.epoch = 0
    hook = FCAMStageHook(switch_epoch=2)
    with pytest.raises(KeyError, match="'cam/MaxBoxAcc' is not tracked"):
        hook.before_train(runner)
    # With a given stage-1 checkpoint only the stage-2 metric is needed.
    FCAMStageHook(switch_epoch=2, stage1_checkpoint='s1.pth').before_train(
        runner)
