"""The log-barrier ``t`` schedule of F-CAM's size constraint."""
from mmengine.hooks import Hook

from fcam_mm.registry import HOOKS
from .fcam_stage_hook import unwrap


@HOOKS.register_module()
class LogBarrierHook(Hook):
    """Set ``t`` of the model's size loss each epoch:
    ``t = min(init_t · factor^k, max_t)`` with ``k`` the number of epochs
    since ``start_epoch`` (Kervadec et al. 2019; F-CAM: t from 1, ×1.01 per
    epoch, at most 10).

    ``t`` is recomputed from the epoch, so resuming needs no saved state.

    Args:
        init_t (float): ``t`` in the first epoch.
        factor (float): growth per epoch.
        max_t (float): cap.
        start_epoch (int): epoch at which the schedule starts (stage 2).
        loss_name (str): attribute of the model holding the loss.
    """

    priority = 'NORMAL'

    def __init__(self,
                 init_t: float = 1.0,
                 factor: float = 1.01,
                 max_t: float = 10.0,
                 start_epoch: int = 0,
                 loss_name: str = 'size_loss'):
        if init_t <= 0 or factor < 1 or max_t < init_t:
            raise ValueError('need 0 < init_t <= max_t and factor >= 1, got '
                             f'init_t={init_t}, factor={factor}, '
                             f'max_t={max_t}')
        self.init_t = init_t
        self.factor = factor
        self.max_t = max_t
        self.start_epoch = start_epoch
        self.loss_name = loss_name

    def t_at(self, epoch: int) -> float:
        steps = max(0, epoch - self.start_epoch)
        return min(self.init_t * self.factor**steps, self.max_t)

    def before_train_epoch(self, runner) -> None:
        loss = getattr(unwrap(runner.model), self.loss_name, None)
        if loss is None:
            return  # the size constraint is switched off in this config
        t = self.t_at(runner.epoch)
        loss.set_t(t)
        runner.message_hub.update_scalar('train/log_barrier_t', t)
