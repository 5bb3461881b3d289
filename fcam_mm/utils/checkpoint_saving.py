"""Checkpoints are written whole or not at all.

mmengine's ``save_checkpoint`` opens the final file name and writes into
it: a job killed (or a disk filling up) during the write leaves a truncated
``epoch_N.pth`` under the name ``last_checkpoint`` points to. Here a local
checkpoint is written to a temporary file in the same folder, flushed to
disk (``fsync``), and renamed over the final name — ``os.replace`` is
atomic on POSIX and Windows — so the final name only ever holds a complete
checkpoint. A failed write removes the temporary file and raises
:class:`CheckpointWriteError` naming the path; whatever was saved before is
untouched. Remote back ends (``s3://``, ``petrel://``…) keep mmengine's
writer, whose ``put`` uploads the bytes in one request.
"""
import errno
import os
import os.path as osp
import tempfile

import torch
from mmengine.runner import checkpoint as mmengine_checkpoint

#: Prefix of the temporary files (``.{name}.tmp-XXXX`` beside the target).
TMP_PREFIX = '.'
TMP_MARK = '.tmp-'


class CheckpointWriteError(OSError):
    """A checkpoint could not be written; nothing was replaced."""


def is_local_path(filename: str) -> bool:
    return '://' not in str(filename)


def _fsync_dir(folder: str) -> None:
    """Make the rename itself durable (POSIX); a no-op where directories
    cannot be opened."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write(filename: str, write) -> None:
    """``write(f)`` into a temporary file beside ``filename``, then an
    atomic rename to ``filename``; on failure the temporary file is removed
    and :class:`CheckpointWriteError` names ``filename``."""
    folder = osp.dirname(osp.abspath(filename))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(
        prefix=TMP_PREFIX + osp.basename(filename) + TMP_MARK, dir=folder)
    try:
        with os.fdopen(fd, 'wb') as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, filename)
    except BaseException as e:  # also KeyboardInterrupt: never a half file
        if osp.exists(tmp):
            os.remove(tmp)
        if isinstance(e, Exception):
            raise CheckpointWriteError(
                getattr(e, 'errno', None) or errno.EIO,
                f'cannot write checkpoint {filename}: '
                f'{type(e).__name__}: {e}. Nothing was replaced; the '
                f'checkpoints already in {folder} are kept') from e
        raise
    _fsync_dir(folder)


def atomic_save_checkpoint(checkpoint: dict, filename: str,
                           file_client_args=None, backend_args=None) -> None:
    """Drop-in for :func:`mmengine.runner.checkpoint.save_checkpoint`:
    local files are written atomically (:func:`atomic_write`), streamed to
    the temporary file (no second copy in memory)."""
    if not is_local_path(filename) or file_client_args is not None or \
            backend_args is not None:
        return _MMENGINE_SAVE(checkpoint, filename,
                              file_client_args=file_client_args,
                              backend_args=backend_args)
    atomic_write(filename, lambda f: torch.save(checkpoint, f))


_MMENGINE_SAVE = mmengine_checkpoint.save_checkpoint
_ENABLED = False


def enable_atomic_checkpoint_saving() -> None:
    """Make ``Runner.save_checkpoint`` (and so every CheckpointHook) write
    through :func:`atomic_save_checkpoint`. Idempotent."""
    global _ENABLED
    if _ENABLED:
        return
    from mmengine.runner import runner as mmengine_runner
    mmengine_runner.save_checkpoint = atomic_save_checkpoint
    mmengine_checkpoint.save_checkpoint = atomic_save_checkpoint
    _ENABLED = True


def leftover_temporary_files(folder: str) -> list:
    """Temporary checkpoint files a killed writer left in ``folder``."""
    if not osp.isdir(folder):
        return []
    return sorted(osp.join(folder, name) for name in os.listdir(folder)
                  if name.startswith(TMP_PREFIX) and TMP_MARK in name)
