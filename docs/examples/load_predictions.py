"""Read the predictions that ``tools/test.py --out`` dumps, without letting
the file run code (docs/testing.md).

The file is a plain pickle (mmengine's ``DumpResults``): ``pickle.load``
would call whatever the file names, and each tensor's storage is restored
by ``torch.storage._load_from_bytes``, i.e. ``torch.load(...,
weights_only=False)``. This unpickler builds only the objects such a file
holds — containers, strings, numbers, tensors, NumPy arrays — and refuses
every other global (the "Restricting Globals" recipe of the ``pickle``
documentation)."""
import codecs
import collections
import io
import pickle

import numpy as np
import torch

_multiarray = (np._core.multiarray
               if hasattr(np, '_core') else np.core.multiarray)


def _storage_from_bytes(data: bytes):
    return torch.load(io.BytesIO(data), weights_only=True)


def _rebuild_tensor(storage, offset, size, stride, requires_grad,
                    backward_hooks, metadata=None):
    if backward_hooks:
        raise pickle.UnpicklingError('a tensor with backward hooks')
    return torch._utils._rebuild_tensor_v2(
        storage, offset, size, stride, requires_grad, backward_hooks,
        metadata)


def _latin1_bytes(text: str, encoding: str) -> bytes:
    if encoding not in ('latin1', 'latin-1'):
        raise pickle.UnpicklingError(f'bytes in encoding {encoding!r}')
    return codecs.encode(text, encoding)


def _plain_dtype(*args):
    dtype = np.dtype(*args)
    if dtype.hasobject:
        raise pickle.UnpicklingError('an array of Python objects')
    return dtype


#: The globals a predictions file may name, and what each stands for.
ALLOWED_GLOBALS = {
    ('collections', 'OrderedDict'): collections.OrderedDict,
    ('_codecs', 'encode'): _latin1_bytes,
    ('torch._utils', '_rebuild_tensor_v2'): _rebuild_tensor,
    ('torch.storage', '_load_from_bytes'): _storage_from_bytes,
    ('numpy', 'ndarray'): np.ndarray,
    ('numpy', 'dtype'): _plain_dtype,
    ('numpy._core.multiarray', '_reconstruct'): _multiarray._reconstruct,
    ('numpy.core.multiarray', '_reconstruct'): _multiarray._reconstruct,
    ('numpy._core.multiarray', 'scalar'): _multiarray.scalar,
    ('numpy.core.multiarray', 'scalar'): _multiarray.scalar,
}


class PredictionUnpickler(pickle.Unpickler):

    def find_class(self, module: str, name: str):
        try:
            return ALLOWED_GLOBALS[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(
                f'{module}.{name} is not allowed in a predictions file '
                '(only tensors, NumPy arrays and plain containers are)'
            ) from None


def load_predictions(path: str) -> list:
    """The list of per-image dicts in a ``tools/test.py --out`` file."""
    with open(path, 'rb') as f:
        try:
            return PredictionUnpickler(f).load()
        except pickle.UnpicklingError as e:
            raise pickle.UnpicklingError(f'{path}: {e}') from None
