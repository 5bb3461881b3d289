"""Mixed precision without loss scaling, for ``--amp`` where mmengine's
:class:`~mmengine.optim.AmpOptimWrapper` cannot run (it asserts a CUDA, NPU,
MLU or MUSA device: float16 needs its ``GradScaler``)."""
from contextlib import contextmanager
from typing import Union

import torch
import torch.nn as nn
from mmengine.optim import OptimWrapper

from fcam_mm.registry import OPTIM_WRAPPERS


@OPTIM_WRAPPERS.register_module()
class AutocastOptimWrapper(OptimWrapper):
    """:class:`~mmengine.optim.OptimWrapper` whose forward and loss run under
    ``torch.autocast(device_type, dtype)``, on the device of the model's
    parameters.

    The default ``bfloat16`` has float32's exponent range (8 bits), so
    gradients do not underflow and no loss scaling is needed (Kalamkar et
    al., "A Study of BFLOAT16 for Deep Learning Training", 2019); it is the
    low-precision type CPU autocast supports. F-CAM's dense CRF, size
    constraint, seed cross-entropy and Otsu split still run in float32
    (:func:`fcam_mm.models.utils.precision.float32_without_autocast`).

    Args:
        dtype (str | torch.dtype): ``'bfloat16'`` (default) or
            ``'float16'`` (only where the device autocasts to it, and then
            better with mmengine's AmpOptimWrapper and its loss scaling).
        **kwargs: passed to :class:`~mmengine.optim.OptimWrapper`.
    """

    def __init__(self, dtype: Union[str, torch.dtype] = 'bfloat16',
                 **kwargs):
        super().__init__(**kwargs)
        if isinstance(dtype, str):
            if dtype not in ('bfloat16', 'float16'):
                raise ValueError("AutocastOptimWrapper dtype must be "
                                 f"'bfloat16' or 'float16', got {dtype!r}")
            dtype = getattr(torch, dtype)
        if dtype not in (torch.bfloat16, torch.float16):
            raise ValueError('AutocastOptimWrapper dtype must be '
                             f'torch.bfloat16 or torch.float16, got {dtype}')
        self.cast_dtype = dtype

    @contextmanager
    def optim_context(self, model: nn.Module):
        device_type = next(model.parameters()).device.type
        with super().optim_context(model), torch.autocast(
                device_type=device_type, dtype=self.cast_dtype):
            yield
