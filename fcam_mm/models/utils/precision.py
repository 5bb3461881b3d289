"""Full precision inside mixed-precision training.

Under ``torch.autocast`` (``--amp``: float16 on CUDA, bfloat16 on the CPU)
matmuls and convolutions run in the low-precision type, and so would any
such op inside F-CAM's losses. Those losses sum over every pixel pair or
every pixel of a 224² map: the dense CRF's lattice/exact filtering, the
absolute size constraint's ``Σ_p S_p`` (bfloat16 keeps 8 significant bits,
so a sum of 50,176 probabilities stops growing long before it is done) and
the seeds' Otsu split. They run in float32 with autocast switched off.
"""
import functools
from contextlib import ExitStack

import torch

LOW_PRECISION = (torch.float16, torch.bfloat16)


def _float32(value):
    if isinstance(value, torch.Tensor) and value.dtype in LOW_PRECISION:
        return value.float()
    return value


def _device_types(values):
    return {v.device.type for v in values if isinstance(v, torch.Tensor)}


def float32_without_autocast(fn):
    """Decorator: ``fn`` runs with autocast disabled on the devices of its
    tensor arguments, and its float16/bfloat16 tensor arguments are cast to
    float32 (differentiably). Other arguments pass unchanged; the result is
    whatever ``fn`` returns (float32 for float32 inputs)."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        args = tuple(_float32(a) for a in args)
        kwargs = {k: _float32(v) for k, v in kwargs.items()}
        with ExitStack() as stack:
            for device_type in _device_types(args + tuple(kwargs.values())):
                stack.enter_context(
                    torch.autocast(device_type=device_type, enabled=False))
            return fn(*args, **kwargs)

    return wrapper
