"""Switching F-CAM training from stage 1 (classifier) to stage 2 (decoder)."""
from typing import Optional

from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper
from mmengine.runner.checkpoint import _load_checkpoint, load_state_dict

from fcam_mm.engine.best_checkpoint import (best_checkpoint, best_info_keys,
                                           reset_best_score)
from fcam_mm.registry import HOOKS
from fcam_mm.utils.checkpoint import strip_wrapper_prefix


def unwrap(model):
    return model.module if is_model_wrapper(model) else model


@HOOKS.register_module()
class FCAMStageHook(Hook):
    """Run F-CAM's two stages in one training run.

    Epochs ``[0, switch_epoch)`` train the classifier (stage 1). At the
    start of epoch ``switch_epoch`` the hook

    1. restores the stage-1 weights selected on the validation split (the
       best checkpoint of ``stage1_key``, kept by ``CheckpointHook``), or
       the classifier of ``stage1_checkpoint`` when given,
    2. freezes the classifier and BatchNorm statistics (stage 2),
    3. sets every parameter group's learning rate to ``stage2_lr`` (the
       stage-1 schedulers must end at ``switch_epoch``), and
    4. forgets the best ``stage2_key`` score seen during stage 1, when the
       decoder was untrained, so model selection in stage 2 compares stage-2
       epochs only.

    The stage is a function of the epoch, so ``--resume`` lands in the right
    stage; stage 2 alone is ``switch_epoch=0`` with ``stage1_checkpoint``.

    Args:
        switch_epoch (int): first epoch of stage 2.
        stage2_lr (float): learning rate of stage 2 (paper: 0.01).
        stage1_checkpoint (str, optional): classifier weights to start
            stage 2 from instead of this run's best stage-1 checkpoint.
        stage1_key (str): metric that selected the stage-1 checkpoint.
        stage2_key (str): metric that selects the stage-2 checkpoint.
    """

    priority = 'HIGH'

    def __init__(self,
                 switch_epoch: int,
                 stage2_lr: float = 0.01,
                 stage1_checkpoint: Optional[str] = None,
                 stage1_key: str = 'cam/MaxBoxAcc',
                 stage2_key: str = 'fcam/MaxBoxAcc'):
        if switch_epoch < 0:
            raise ValueError(f'switch_epoch must be >= 0, got {switch_epoch}')
        if stage2_lr <= 0:
            raise ValueError(f'stage2_lr must be positive, got {stage2_lr}')
        self.switch_epoch = switch_epoch
        self.stage2_lr = stage2_lr
        self.stage1_checkpoint = stage1_checkpoint
        self.stage1_key = stage1_key
        self.stage2_key = stage2_key

    def before_train(self, runner) -> None:
        # Checked here, not in __init__: tools/test.py builds the same hooks
        # from a *_stage2.py config, and testing needs no stage-1 weights.
        if self.switch_epoch == 0 and self.stage1_checkpoint is None:
            raise ValueError('switch_epoch=0 (stage 2 only) needs '
                             'stage1_checkpoint: the classifier to freeze '
                             '(--cfg-options custom_hooks.0.stage1_checkpoint'
                             '=STAGE1.pth)')
        model = unwrap(runner.model)
        if not hasattr(model, 'set_stage'):
            raise TypeError(f'FCAMStageHook needs a model with set_stage(), '
                            f'got {type(model).__name__}')
        # Fail now, not after stage 1, when the checkpoint hook does not
        # track the metrics this hook selects by.
        if self.stage1_checkpoint is None:
            best_info_keys(runner, self.stage1_key)
        best_info_keys(runner, self.stage2_key)
        # Resumed inside stage 2: the checkpoint already holds the frozen
        # classifier, the decoder and the stage-2 learning rates.
        if runner.epoch > self.switch_epoch:
            model.set_stage(2)
        else:
            model.set_stage(1)

    def before_train_epoch(self, runner) -> None:
        model = unwrap(runner.model)
        if runner.epoch != self.switch_epoch or model.stage == 2:
            return
        source = self.stage1_checkpoint
        if source is None:
            source = best_checkpoint(runner, self.stage1_key)
        if source is None:
            print_log(
                f'FCAMStageHook: no best checkpoint for "{self.stage1_key}" '
                '(was validation run?); stage 2 starts from the last stage-1 '
                'weights', logger='current', level=30)
        else:
            print_log(f'FCAMStageHook: stage 2 starts from the classifier '
                      f'of {source}', logger='current')
            self._load_classifier(model, source, runner.logger)
        model.set_stage(2)
        for group in runner.optim_wrapper.optimizer.param_groups:
            group['lr'] = self.stage2_lr
            group['initial_lr'] = self.stage2_lr
        reset_best_score(runner, self.stage2_key)
        # The logger prints every train/ scalar the hub holds: drop the
        # stage-1 losses so stage 2 does not show them, frozen, forever.
        for key in [k for k in runner.message_hub.log_scalars
                    if k.startswith('train/loss')]:
            runner.message_hub.log_scalars.pop(key)
        print_log(f'FCAMStageHook: stage 2 (decoder) from epoch '
                  f'{runner.epoch + 1}, lr {self.stage2_lr}', logger='current')

    @staticmethod
    def _load_classifier(model, source: str, logger) -> None:
        """Load only the classifier (backbone + head) from ``source``: the
        decoder keeps its own weights. A classifier key missing from the
        checkpoint is an error — stage 2 must not start from random
        features."""
        checkpoint = _load_checkpoint(source, map_location='cpu')
        state = checkpoint.get('state_dict', checkpoint)
        state = strip_wrapper_prefix(state)
        prefixes = tuple(f'{name}.' for name, child in model.named_children()
                         if child in model.classifier_modules())
        wanted = {k for k in model.state_dict() if k.startswith(prefixes)}
        missing = sorted(wanted - set(state))
        if missing:
            raise KeyError(f'{source} lacks {len(missing)} classifier '
                           f'weight(s) of the model, e.g. {missing[:3]}')
        # The decoder's own tensors fill the rest, so the load is strict
        # and the log lists no "missing" decoder keys.
        merged = model.state_dict()
        merged.update({k: state[k] for k in wanted})
        load_state_dict(model, merged, strict=True, logger=logger)
