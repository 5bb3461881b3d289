from .fcam_stage_hook import FCAMStageHook
from .log_barrier_hook import LogBarrierHook
from .visualization_hook import WSOLVisualizationHook

__all__ = ['FCAMStageHook', 'LogBarrierHook', 'WSOLVisualizationHook']
