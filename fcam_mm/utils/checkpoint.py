"""Safe checkpoint loading for mmengine 0.10.7 on torch >= 2.6.

torch >= 2.6 loads with ``weights_only=True`` by default: the unpickler
accepts tensors, containers and primitive types, and refuses every other
global. mmengine's own checkpoints carry a few more objects (the
``MessageHub`` history as :class:`HistoryBuffer` holding NumPy arrays), so a
plain mmengine ``--resume`` fails. The fix is to allow-list exactly those
globals, once, here — never to load with ``weights_only=False``, which would
let a downloaded checkpoint run arbitrary code.

mmengine's HTTP(S) loader goes through ``torch.hub.load_state_dict_from_url``
whose default is ``weights_only=False``; it is replaced here by one that
downloads, checks the ``-<sha256 prefix>`` in the file name, and loads with
``weights_only=True``.
"""
import os
import os.path as osp
import pickle
from typing import IO, Union
from urllib.parse import urlparse

import numpy as np
import torch
from mmengine.dist import get_dist_info
from mmengine.logging import HistoryBuffer
from mmengine.runner import checkpoint as mmengine_checkpoint
from mmengine.runner.checkpoint import CheckpointLoader


class UnsafeCheckpointError(pickle.UnpicklingError):
    """A checkpoint needs a Python object outside the allow-list."""


def history_buffer_method(owner, name: str):
    """A ``getattr`` that only returns :class:`HistoryBuffer` methods.

    ``HistoryBuffer.__getstate__`` pickles its statistics methods (``min``,
    ``max``, ``current``, ``mean``, and any registered with
    ``register_statistics``) as ``getattr(HistoryBuffer, 'mean')``. Allowing
    the real ``getattr`` would hand a malicious file attribute access on
    every allowed object; this stand-in, registered under the name
    ``builtins.getattr``, answers only that one question.
    """
    if (owner is HistoryBuffer and isinstance(name, str)
            and not name.startswith('_')
            and callable(HistoryBuffer.__dict__.get(name))):
        return getattr(owner, name)
    raise pickle.UnpicklingError(
        f'getattr({owner!r}, {name!r}) is not allowed while loading a '
        'checkpoint: only HistoryBuffer statistics methods are')


def mmengine_checkpoint_globals() -> list:
    """The globals, beyond torch's defaults, that an mmengine checkpoint
    pickles: the message hub's :class:`HistoryBuffer` (with its statistics
    methods, see :func:`history_buffer_method`) and the NumPy arrays, dtypes
    and scalars inside it."""
    multiarray = np._core.multiarray if hasattr(
        np, '_core') else np.core.multiarray
    return [
        HistoryBuffer,
        (history_buffer_method, 'builtins.getattr'),
        multiarray._reconstruct,
        multiarray.scalar,
        np.ndarray,
        np.dtype,
        type(np.dtype(np.float64)),
        type(np.dtype(np.float32)),
        type(np.dtype(np.int64)),
        type(np.dtype(np.int32)),
    ]


def safe_torch_load(f: Union[str, IO], map_location=None):
    """``torch.load(f, weights_only=True)`` with the mmengine allow-list, and
    an error that says what was refused and why."""
    torch.serialization.add_safe_globals(mmengine_checkpoint_globals())
    name = f if isinstance(f, str) else getattr(f, 'name', '<stream>')
    try:
        return torch.load(f, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as e:
        detail = str(e).split('\n\n')[0].strip()
        for line in str(e).splitlines():
            if 'Unsupported global' in line or 'GLOBAL' in line:
                detail = line.strip()
                break
        raise UnsafeCheckpointError(
            f'Refusing to load checkpoint {name}: it contains a pickled '
            f'object outside the allow-list of plain tensors and mmengine '
            f'training state ({detail}). Unpickling it could execute '
            'arbitrary code, so fcam_mm never loads with '
            'weights_only=False. If you trust the file, extract its '
            'state_dict in a separate, trusted process.') from e


def load_from_local(filename: str, map_location=None):
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'{filename} can not be found.')
    return safe_torch_load(filename, map_location=map_location)


def _hub_checkpoint_dir() -> str:
    return osp.join(torch.hub.get_dir(), 'checkpoints')


def download_checkpoint(url: str, model_dir: str = None,
                        progress: bool = False) -> str:
    """Download ``url`` into the torch hub cache unless already there.

    A file named ``name-<hex>.ext`` must have a SHA-256 starting with
    ``<hex>`` (torch hub's convention); torch writes to a temporary file and
    moves it into place only after the check, so a failed or corrupt download
    leaves nothing in the cache.
    """
    model_dir = model_dir or _hub_checkpoint_dir()
    os.makedirs(model_dir, exist_ok=True)
    filename = osp.basename(urlparse(url).path)
    cached = osp.join(model_dir, filename)
    if not osp.exists(cached):
        match = torch.hub.HASH_REGEX.search(filename)
        hash_prefix = match.group(1) if match else None
        torch.hub.download_url_to_file(
            url, cached, hash_prefix, progress=progress)
    return cached


def load_from_http(filename: str, map_location=None, model_dir=None,
                   progress=False):
    """Download (rank 0 first, then the others from the cache) and load
    with ``weights_only=True``."""
    rank, world_size = get_dist_info()
    if rank == 0:
        cached = download_checkpoint(filename, model_dir, progress)
    if world_size > 1:
        torch.distributed.barrier()
        if rank > 0:
            cached = download_checkpoint(filename, model_dir, progress)
    return safe_torch_load(cached, map_location=map_location)


_ENABLED = False


def enable_safe_checkpoint_loading() -> None:
    """Allow-list mmengine's globals and route mmengine's local and HTTP(S)
    checkpoint loaders through :func:`safe_torch_load`. Idempotent."""
    global _ENABLED
    torch.serialization.add_safe_globals(mmengine_checkpoint_globals())
    if _ENABLED:
        return
    CheckpointLoader.register_scheme(
        prefixes='', loader=load_from_local, force=True)
    CheckpointLoader.register_scheme(
        prefixes=('http://', 'https://'), loader=load_from_http, force=True)
    # torchvision://, open-mmlab:// and mmcls:// call this module-level name.
    mmengine_checkpoint.load_from_http = load_from_http
    _ENABLED = True
