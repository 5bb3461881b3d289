from .bad_sample_report_hook import BadSampleReportHook
from .check_invalid_loss_hook import CheckInvalidLossHook
from .fcam_stage_hook import FCAMStageHook
from .log_barrier_hook import LogBarrierHook
from .rng_state_hook import RNGStateHook
from .safe_checkpoint_hook import SafeCheckpointHook
from .visualization_hook import WSOLVisualizationHook

__all__ = [
    'BadSampleReportHook', 'CheckInvalidLossHook', 'FCAMStageHook',
    'LogBarrierHook',
    'RNGStateHook', 'SafeCheckpointHook', 'WSOLVisualizationHook'
]
