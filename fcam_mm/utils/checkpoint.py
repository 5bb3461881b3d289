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
downloads into the torch hub cache, checks the length and the
``-<sha256 prefix>`` in the file name, and loads with ``weights_only=True``.
The local loader also accepts a model name from ``model-index.yml``
(``load_from='fcam_tinyresnet_synthetic'``), see
:mod:`fcam_mm.apis.model_zoo`.
"""
import hashlib
import logging
import os
import os.path as osp
import pickle
import tempfile
from http.client import HTTPException
from typing import IO, Optional, Union
from urllib.parse import urlparse
from urllib.request import Request, urlopen

import numpy as np
import torch
from mmengine.dist import get_dist_info
from mmengine.logging import HistoryBuffer, print_log
from mmengine.runner import checkpoint as mmengine_checkpoint
from mmengine.runner.checkpoint import CheckpointLoader


class UnsafeCheckpointError(pickle.UnpicklingError):
    """A checkpoint needs a Python object outside the allow-list."""


class CorruptCheckpointError(RuntimeError):
    """A checkpoint that cannot be read back (truncated, corrupt)."""


def history_buffer_method(owner, name: str):
    """A ``getattr`` that only returns :class:`HistoryBuffer` methods.

    ``HistoryBuffer.__getstate__`` pickles its statistics methods (``min``,
    ``max``, ``current``, ``mean``) as ``getattr(HistoryBuffer, 'mean')``;
    a function added with ``register_statistics`` pickles as a plain global,
    which the allow-list refuses. Allowing
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
            if 'Unsupported' in line or 'GLOBAL' in line:
                detail = line.strip()
                break
        if 'Unsupported operand' in detail or 'truncated' in detail:
            # bytes that are no pickle, or a pickle cut short: damage,
            # not an unsafe object (anything else stays refused as unsafe)
            raise CorruptCheckpointError(
                f'checkpoint {name} is truncated or corrupt (not a torch '
                f'checkpoint: {detail})') from e
        raise UnsafeCheckpointError(
            f'Refusing to load checkpoint {name}: it contains a pickled '
            f'object outside the allow-list of plain tensors and mmengine '
            f'training state ({detail}). Unpickling it could execute '
            'arbitrary code, so fcam_mm never loads with '
            'weights_only=False. If you trust the file, extract its '
            'state_dict in a separate, trusted process.') from e


class CheckpointDownloadError(RuntimeError):
    """A download that failed, was cut short, or does not match its hash;
    nothing is left in the cache."""


#: Seconds without data before a download is abandoned.
DOWNLOAD_TIMEOUT = 60


def hash_prefix_of(filename: str) -> Optional[str]:
    """The SHA-256 prefix in ``name-<hex>.ext`` (torch hub's convention,
    ``torch.hub.HASH_REGEX``), or ``None``."""
    match = torch.hub.HASH_REGEX.search(osp.basename(filename))
    return match.group(1) if match and match.group(1) else None


def strip_wrapper_prefix(state_dict: dict) -> dict:
    """``state_dict`` without the ``module.`` prefix that DataParallel / DDP
    wrappers give every key when the wrapped model is saved."""
    return {(k[len('module.'):] if k.startswith('module.') else k): v
            for k, v in state_dict.items()}


def sha256_of(path: str, chunk_size: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(chunk_size), b''):
            digest.update(chunk)
    return digest.hexdigest()


def verify_hash_prefix(path: str, source: Optional[str] = None) -> None:
    """Refuse a file whose SHA-256 does not start with the prefix in its
    name (no prefix: nothing to check)."""
    prefix = hash_prefix_of(path)
    if prefix is None:
        return
    digest = sha256_of(path)
    if not digest.startswith(prefix):
        raise CheckpointDownloadError(
            f'{source or path}: SHA-256 {digest} does not start with '
            f'{prefix!r}, the hash prefix in its file name; the file is '
            'corrupt or not the published one, refused')


def load_from_local(filename: str, map_location=None):
    """A local file, or a model name from the model index (see
    :func:`fcam_mm.apis.model_zoo.resolve_checkpoint`): its URL is
    downloaded like any URL, its shipped file checked against the hash
    prefix in its name."""
    filename = osp.expanduser(filename)
    if osp.isfile(filename):
        return safe_torch_load(filename, map_location=map_location)
    # Imported here: fcam_mm.apis imports this module.
    from fcam_mm.apis.model_zoo import is_url, resolve_checkpoint
    weights = resolve_checkpoint(filename)
    if is_url(weights):
        return load_from_http(weights, map_location=map_location)
    verify_hash_prefix(weights, source=f'{weights} (model {filename!r})')
    return safe_torch_load(weights, map_location=map_location)


def _hub_checkpoint_dir() -> str:
    return osp.join(torch.hub.get_dir(), 'checkpoints')


def download_checkpoint(url: str, model_dir: str = None,
                        progress: bool = False) -> str:
    """Download ``url`` into the torch hub cache unless already there, and
    return the cached path.

    The file is written to a hidden ``.partial`` file in the cache folder
    and moved into place only when complete: the byte count must equal the
    server's ``Content-Length`` (a connection closed early is not an
    error for ``urllib``, so it is checked here) and, for a file named
    ``name-<hex>.ext``, its SHA-256 must start with ``<hex>``. Otherwise
    :class:`CheckpointDownloadError` and nothing is left in the cache. A
    cached hash-named file is checked the same way on every hit (the cache
    is shared with torch.hub and keyed by file name only); one that fails is
    removed and downloaded again. ``progress`` is accepted for mmengine's loader signature; the start of
    a download is logged instead of a progress bar.
    """
    model_dir = model_dir or _hub_checkpoint_dir()
    filename = osp.basename(urlparse(url).path)
    if not filename:
        raise CheckpointDownloadError(f'{url}: the URL names no file')
    cached = osp.join(model_dir, filename)
    if osp.exists(cached):
        # The hub cache is shared with torch.hub / torchvision and keyed by
        # file name only: a hash-named file is checked on every hit.
        try:
            verify_hash_prefix(cached)
            return cached
        except CheckpointDownloadError as error:
            print_log(f'{error}; removing the cached copy and downloading '
                      f'{url} again', logger='current', level=logging.WARNING)
            os.remove(cached)
    os.makedirs(model_dir, exist_ok=True)
    prefix = hash_prefix_of(filename)
    print_log(f'Downloading {url} to {cached}', logger='current')
    fd, partial = tempfile.mkstemp(
        prefix=f'.{filename}.', suffix='.partial', dir=model_dir)
    try:
        digest = hashlib.sha256()
        received = 0
        request = Request(url, headers={'User-Agent': 'fcam_mm'})
        with os.fdopen(fd, 'wb') as out, urlopen(
                request, timeout=DOWNLOAD_TIMEOUT) as response:
            expected = response.headers.get('Content-Length')
            for chunk in iter(lambda: response.read(1 << 20), b''):
                out.write(chunk)
                digest.update(chunk)
                received += len(chunk)
        if expected is not None and received != int(expected):
            raise CheckpointDownloadError(
                f'{url}: the download stopped after {received} of '
                f'{expected} bytes (connection closed early); nothing was '
                'cached, try again')
        if prefix is not None and not digest.hexdigest().startswith(prefix):
            raise CheckpointDownloadError(
                f'{url}: SHA-256 {digest.hexdigest()} does not start with '
                f'{prefix!r}, the hash prefix in its file name; refused and '
                'not cached')
        os.replace(partial, cached)
    except (OSError, HTTPException) as e:
        raise CheckpointDownloadError(
            f'{url}: download failed ({type(e).__name__}: {e}); nothing '
            'was cached') from e
    finally:
        if osp.exists(partial):
            os.remove(partial)
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
