"""Where training resumes from, and whether the work dir can take it.

``--resume`` (automatic) asks mmengine for the file named in
``work_dir/last_checkpoint``. Here that file is only the first candidate:
each candidate is loaded (safely, :func:`~fcam_mm.utils.safe_torch_load`)
before it is chosen, and one that is truncated or corrupt is reported by
path and skipped for the next most recent ``epoch_*.pth`` / ``iter_*.pth``
of the work dir — the previous complete checkpoint, which the
:class:`~fcam_mm.engine.hooks.SafeCheckpointHook` keeps until a newer one is
complete.
"""
import os
import os.path as osp
import re
import tempfile
import warnings
from typing import List, Optional

from .checkpoint import (CorruptCheckpointError, UnsafeCheckpointError,
                         safe_torch_load)

CHECKPOINT_NAME = re.compile(r'^(epoch|iter)_(\d+)\.pth$')


class WorkDirError(OSError):
    """The work dir cannot hold the run's logs and checkpoints."""


def check_work_dir_writable(work_dir: str) -> None:
    """Create ``work_dir`` and write, flush and remove a probe file in it;
    :class:`WorkDirError` naming the folder when any step fails (read-only
    file system, no permission, disk full)."""
    try:
        os.makedirs(work_dir, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=work_dir, prefix='.write-probe-'
                                         ) as probe:
            probe.write(b'\0' * 4096)
            probe.flush()
            os.fsync(probe.fileno())
    except OSError as e:
        raise WorkDirError(
            e.errno, f'work_dir {osp.abspath(work_dir)} is not writable '
            f'({type(e).__name__}: {e.strerror or e}); training would lose '
            'its checkpoints. Choose another with --work-dir') from e


def load_complete_checkpoint(path: str) -> dict:
    """Load ``path`` on the CPU; :class:`CorruptCheckpointError` naming it
    when it is truncated or corrupt (an unsafe pickle stays an
    :class:`~fcam_mm.utils.UnsafeCheckpointError`)."""
    try:
        checkpoint = safe_torch_load(path, map_location='cpu')
    except (UnsafeCheckpointError, CorruptCheckpointError):
        raise
    except Exception as e:  # zip, pickle, EOF and size errors alike
        raise CorruptCheckpointError(
            f'checkpoint {path} is truncated or corrupt '
            f'({type(e).__name__}: {e})') from e
    if not isinstance(checkpoint, dict) or 'state_dict' not in checkpoint:
        raise CorruptCheckpointError(
            f'checkpoint {path} holds no state_dict (not a training '
            'checkpoint)')
    return checkpoint


def resume_candidates(work_dir: str) -> List[str]:
    """The file ``last_checkpoint`` names (when it exists), then every
    ``epoch_N.pth`` / ``iter_N.pth`` of ``work_dir`` from the highest N."""
    candidates = []
    pointer = osp.join(work_dir, 'last_checkpoint')
    if osp.isfile(pointer):
        with open(pointer) as f:
            named = f.read().strip()
        if named and osp.isfile(named):
            candidates.append(osp.abspath(named))
    numbered = []
    if osp.isdir(work_dir):
        for name in os.listdir(work_dir):
            match = CHECKPOINT_NAME.match(name)
            if match:
                numbered.append((int(match.group(2)), name))
    for _, name in sorted(numbered, reverse=True):
        path = osp.abspath(osp.join(work_dir, name))
        if path not in candidates:
            candidates.append(path)
    return candidates


def find_resumable_checkpoint(work_dir: str) -> Optional[str]:
    """The most recent complete checkpoint of ``work_dir`` (see the module
    docstring), or ``None`` when there is none; each candidate skipped is
    named in a warning."""
    for path in resume_candidates(work_dir):
        try:
            load_complete_checkpoint(path)
        except CorruptCheckpointError as e:
            warnings.warn(f'{e}; resuming from the previous checkpoint '
                          'instead', stacklevel=2)
            continue
        return path
    return None
