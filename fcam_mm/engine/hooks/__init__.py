from .fcam_stage_hook import FCAMStageHook
from .log_barrier_hook import LogBarrierHook

__all__ = ['FCAMStageHook', 'LogBarrierHook']
