"""Disk faults around checkpoints, injected (not waited for): a read-only
or full work dir before training, ENOSPC while saving, leftovers of a
killed writer."""
import errno
import glob
import os
import os.path as osp
import re

import pytest

from tests.test_tools.test_fcam_two_stage import CONFIG, two_stage_options
from tests.test_tools.tool_helpers import (load_tool, make_small_synthetic,
                                          runner_log)


@pytest.fixture(scope='module')
def data_root(tmp_path_factory):
    return make_small_synthetic(str(tmp_path_factory.mktemp('synthetic')))


def test_read_only_work_dir_is_named(tmp_path, monkeypatch):
    from fcam_mm.utils import resume

    def read_only(*args, **kwargs):
        raise OSError(errno.EROFS, 'Read-only file system')

    monkeypatch.setattr(resume.tempfile, 'NamedTemporaryFile', read_only)
    with pytest.raises(resume.WorkDirError) as info:
        resume.check_work_dir_writable(str(tmp_path / 'w'))
    assert str(tmp_path / 'w') in str(info.value)
    assert 'Read-only file system' in str(info.value)
    assert info.value.errno == errno.EROFS


def test_free_space_is_checked_before_training(data_root, tmp_path,
                                               monkeypatch):
    from fcam_mm.engine.hooks import safe_checkpoint_hook as hook
    real = hook.shutil.disk_usage

    def almost_full(path):
        usage = real(path)
        return usage._replace(free=1 << 20)  # 1 MiB

    monkeypatch.setattr(hook.shutil, 'disk_usage', almost_full)
    work_dir = str(tmp_path / 'full')
    with pytest.raises(OSError, match=re.escape(work_dir) +
                       r' has 1 MiB free; saving 2 checkpoints of this '
                       r'model needs about \d+ MiB') as info:
        load_tool('train.py').main([CONFIG, '--work-dir', work_dir] +
                                   two_stage_options(data_root, 1, 1))
    assert info.value.errno == errno.ENOSPC
    assert not glob.glob(osp.join(work_dir, '*.pth'))  # nothing trained


def test_disk_full_during_save_keeps_every_checkpoint(data_root, tmp_path,
                                                      monkeypatch):
    """max_keep_ckpts=2: saving epoch 3 would remove epoch_1 — mmengine
    removes it first; here the failed save leaves epochs 1 and 2 and the
    best checkpoint."""
    import fcam_mm.utils.checkpoint_saving as saving
    real_save = saving.torch.save

    def disk_full_at_epoch_3(obj, f, *args, **kwargs):
        if obj.get('meta', {}).get('epoch') == 3:
            f.write(b'\0' * 100)
            raise OSError(errno.ENOSPC, 'No space left on device')
        return real_save(obj, f, *args, **kwargs)

    monkeypatch.setattr(saving.torch, 'save', disk_full_at_epoch_3)
    work_dir = str(tmp_path / 'enospc')
    argv = [CONFIG, '--work-dir', work_dir] + two_stage_options(
        data_root, 3, 1, 'default_hooks.checkpoint.max_keep_ckpts=2')
    with pytest.raises(saving.CheckpointWriteError) as info:
        load_tool('train.py').main(argv)
    assert info.value.errno == errno.ENOSPC
    assert osp.join(work_dir, 'epoch_3.pth') in str(info.value)
    names = os.listdir(work_dir)
    assert {'epoch_1.pth', 'epoch_2.pth'} <= set(names)
    assert 'epoch_3.pth' not in names
    assert glob.glob(osp.join(work_dir, 'best_cam_MaxBoxAcc_epoch_*.pth'))
    assert not [n for n in names if '.tmp-' in n]


def test_leftover_temporary_files_are_removed(data_root, tmp_path):
    work_dir = tmp_path / 'leftover'
    work_dir.mkdir()
    leftover = work_dir / '.epoch_1.pth.tmp-k1ll3d'
    leftover.write_bytes(b'half')
    runner = load_tool('train.py').main(
        [CONFIG, '--work-dir', str(work_dir)] +
        two_stage_options(data_root, 1, 1))
    assert not leftover.exists()
    assert f'removing {leftover}' in runner_log(runner)


@pytest.mark.parametrize('keep', [0, 1])
def test_too_few_kept_checkpoints_is_an_error(keep):
    from fcam_mm.engine.hooks import SafeCheckpointHook
    with pytest.raises(ValueError, match=f'max_keep_ckpts={keep}'):
        SafeCheckpointHook(interval=1, max_keep_ckpts=keep)
