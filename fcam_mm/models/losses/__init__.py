from .dense_crf_loss import DenseCRFLoss
from .partial_ce_loss import PartialCrossEntropyLoss
from .size_constraint_loss import (AbsoluteSizeConstraintLoss,
                                   log_barrier_extension)

__all__ = [
    'DenseCRFLoss', 'PartialCrossEntropyLoss', 'AbsoluteSizeConstraintLoss',
    'log_barrier_extension'
]
