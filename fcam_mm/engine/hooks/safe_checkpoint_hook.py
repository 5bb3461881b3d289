"""mmengine's CheckpointHook, in the order that never loses the last good
checkpoint."""
import os
import os.path as osp
import shutil
from contextlib import contextmanager

from mmengine.dist import is_main_process
from mmengine.hooks import CheckpointHook
from mmengine.logging import print_log

from fcam_mm.registry import HOOKS
from fcam_mm.utils.checkpoint_saving import leftover_temporary_files

#: Free space asked for before training, in checkpoint sizes: the new one
#: is written next to those kept, and the best checkpoint beside them.
FREE_SPACE_CHECKPOINTS = 2


class _DeferredRemovals:
    """A file back end whose ``remove`` / ``rmtree`` are recorded instead of
    done; everything else is the wrapped back end's."""

    def __init__(self, backend):
        self._backend = backend
        self.pending = []

    def remove(self, path):
        self.pending.append((path, self._stat(path)))

    def rmtree(self, path):
        self.pending.append((path, self._stat(path)))

    @staticmethod
    def _stat(path):
        try:
            st = os.stat(path)
        except OSError:
            return None
        return st.st_mtime_ns, st.st_size

    def __getattr__(self, name):
        return getattr(self._backend, name)


def estimated_checkpoint_bytes(runner) -> int:
    """Bytes of the model's parameters and buffers, plus the optimiser's
    state where it exists (momentum: one more copy; Adam: two)."""
    model = runner.model
    model_bytes = sum(t.numel() * t.element_size()
                      for t in list(model.parameters()) +
                      list(model.buffers()))
    state_bytes = 0
    optim_wrapper = getattr(runner, 'optim_wrapper', None)
    optimizer = getattr(optim_wrapper, 'optimizer', None)
    if optimizer is not None:
        defaults = getattr(optimizer, 'defaults', {})
        copies = 2 if 'betas' in defaults else \
            1 if defaults.get('momentum') else 0
        state_bytes = copies * sum(
            p.numel() * p.element_size()
            for group in optimizer.param_groups for p in group['params'])
    return model_bytes + state_bytes


@HOOKS.register_module()
class SafeCheckpointHook(CheckpointHook):
    """:class:`mmengine.hooks.CheckpointHook` that keeps the last good
    checkpoint through any fault.

    mmengine removes the checkpoint falling out of ``max_keep_ckpts`` (and
    the previous best) *before* writing the new one, so a job killed in
    between, or a full disk, is left with one checkpoint fewer and maybe a
    truncated one. Here:

    - removals are deferred until the new checkpoint is complete, and a
      file that was rewritten since its removal was asked for is kept;
    - every local checkpoint write is atomic
      (``fcam_mm.utils.checkpoint_saving``) and ``last_checkpoint`` is
      written after it, so it never names a half-written file (a pointer
      itself cut short is ignored by ``--resume``, which then scans the
      numbered checkpoints, :mod:`fcam_mm.utils.resume`);
    - ``max_keep_ckpts`` must keep at least two (or be -1, all), so that
      ``--resume`` has a previous complete checkpoint to fall back to;
    - before training the work dir must have room for
      ``FREE_SPACE_CHECKPOINTS`` checkpoints of this model (estimated from
      its parameters and optimiser state), else an error naming the folder,
      the free and the needed bytes; temporary files a killed writer left
      are removed.

    Arguments are :class:`~mmengine.hooks.CheckpointHook`'s.
    """

    def __init__(self, *args, max_keep_ckpts: int = 2, **kwargs):
        if max_keep_ckpts == 0 or max_keep_ckpts == 1:
            raise ValueError(
                f'SafeCheckpointHook: max_keep_ckpts={max_keep_ckpts} keeps '
                'no previous checkpoint to resume from when the latest is '
                'damaged; use 2 or more, or -1 to keep all')
        super().__init__(*args, max_keep_ckpts=max_keep_ckpts, **kwargs)

    def before_train(self, runner) -> None:
        super().before_train(runner)
        if not is_main_process() or '://' in str(self.out_dir):
            return
        for path in leftover_temporary_files(self.out_dir):
            print_log(f'SafeCheckpointHook: removing {path}, a checkpoint '
                      'an interrupted run left half-written',
                      logger='current', level=30)
            os.remove(path)
        needed = FREE_SPACE_CHECKPOINTS * estimated_checkpoint_bytes(runner)
        free = shutil.disk_usage(self.out_dir).free
        if free < needed:
            raise OSError(
                28, f'{osp.abspath(self.out_dir)} has {free / 2**20:.0f} '
                f'MiB free; saving {FREE_SPACE_CHECKPOINTS} checkpoints of '
                f'this model needs about {needed / 2**20:.0f} MiB. Free '
                'space or choose another --work-dir')

    @contextmanager
    def _removals_after_success(self):
        backend = self.file_backend
        deferred = _DeferredRemovals(backend)
        self.file_backend = deferred
        try:
            yield
        finally:
            self.file_backend = backend
        # only reached when the save succeeded
        for path, stat in deferred.pending:
            if stat is None or deferred._stat(path) != stat:
                continue  # gone already, or written again since
            if backend.isdir(path):
                backend.rmtree(path)
            else:
                backend.remove(path)

    def _save_checkpoint_with_step(self, runner, step, meta):
        with self._removals_after_success():
            super()._save_checkpoint_with_step(runner, step, meta)

    def _save_best_checkpoint(self, runner, metrics) -> None:
        with self._removals_after_success():
            super()._save_best_checkpoint(runner, metrics)
