from .check_invalid_loss_hook import CheckInvalidLossHook
from .fcam_stage_hook import FCAMStageHook
from .log_barrier_hook import LogBarrierHook
from .visualization_hook import WSOLVisualizationHook

__all__ = [
    'CheckInvalidLossHook', 'FCAMStageHook', 'LogBarrierHook',
    'WSOLVisualizationHook'
]
