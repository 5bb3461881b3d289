"""Faults injected into real training runs (tools/train.py, both F-CAM
stages, CPU, ``randomness.deterministic=True``):

- SIGKILL mid-epoch in stage 1 (also with 2 persistent dataloader
  workers), in stage 2, and to one rank of a 2-process gloo run: ``--resume`` finishes, and the final checkpoint's weights (and
  the selected best checkpoints) equal those of an uninterrupted run with
  the same seed, bit for bit;
- an exception inside the checkpoint writer: no half-written file, the
  previous checkpoint and ``last_checkpoint`` intact, and resume goes on;
- a truncated latest checkpoint: resume names it and falls back to the
  previous complete one;
- a read-only work dir: one error naming it before anything runs.
"""
import glob
import os
import os.path as osp
import re
import signal
import stat
import subprocess
import sys
import time

import pytest
import torch

from .test_fcam_two_stage import CONFIG, two_stage_options
from .tool_helpers import REPO, load_tool, runner_log

DETERMINISTIC = ('randomness.deterministic=True', 'randomness.seed=0')
pytestmark = pytest.mark.skipif(sys.platform != 'linux',
                                reason='POSIX signals and /proc')


def env():
    e = dict(os.environ, OMP_NUM_THREADS='1', PYTHONUNBUFFERED='1')
    e['PATH'] = osp.dirname(sys.executable) + os.pathsep + e['PATH']
    e.pop('PYTHONPATH', None)
    return e


def train_cmd(data_root, work_dir, *flags, ranks=1, port=None, extra=()):
    args = [CONFIG, '--work-dir', work_dir, *flags] + two_stage_options(
        data_root, 2, 2, *DETERMINISTIC, *extra)
    script = osp.join(REPO, 'tools', 'train.py')
    if ranks == 1:
        return [sys.executable, script] + args
    return [sys.executable, '-m', 'torch.distributed.run',
            f'--nproc_per_node={ranks}', f'--master_port={port}', script] + \
        args + ['--launcher', 'pytorch']


def run_to_end(cmd):
    proc = subprocess.run(cmd, cwd=REPO, env=env(), capture_output=True,
                          text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    return proc.stdout + proc.stderr


def children(pid):
    """PIDs whose parent is ``pid`` (from /proc)."""
    found = []
    for entry in os.listdir('/proc'):
        if entry.isdigit():
            try:
                with open(f'/proc/{entry}/stat') as f:
                    fields = f.read().rsplit(')', 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry))
    return found


def run_and_kill(cmd, pattern, victim=None):
    """Start ``cmd``, SIGKILL it (or ``victim(proc)``'s PID) when a line of
    its output matches ``pattern``; return the output so far."""
    proc = subprocess.Popen(cmd, cwd=REPO, env=env(), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    seen = []
    try:
        for line in proc.stdout:
            seen.append(line)
            if re.search(pattern, line):
                os.kill(victim(proc) if victim else proc.pid, signal.SIGKILL)
                break
        else:
            pytest.fail('the run ended before the kill point:\n' +
                        ''.join(seen[-60:]))
        proc.stdout.read()
        proc.wait(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode != 0
    return ''.join(seen)


def weights(path):
    return torch.load(path, map_location='cpu')['state_dict']


def assert_same_run(reference_dir, resumed_dir):
    final = 'epoch_4.pth'
    a, b = weights(osp.join(reference_dir, final)), \
        weights(osp.join(resumed_dir, final))
    assert a.keys() == b.keys()
    different = [k for k in a if not torch.equal(a[k], b[k])]
    assert not different, different[:5]
    best = sorted(osp.basename(p) for p in
                  glob.glob(osp.join(reference_dir, 'best_*.pth')))
    assert best == sorted(osp.basename(p) for p in
                          glob.glob(osp.join(resumed_dir, 'best_*.pth')))
    for name in best:
        ref = weights(osp.join(reference_dir, name))
        res = weights(osp.join(resumed_dir, name))
        assert all(torch.equal(ref[k], res[k]) for k in ref), name


@pytest.fixture(scope='module')
def reference_run(data_root, tmp_path_factory):
    """The uninterrupted single-process run (2 + 2 epochs)."""
    work_dir = str(tmp_path_factory.mktemp('reference'))
    run_to_end(train_cmd(data_root, work_dir))
    return work_dir


@pytest.mark.slow
@pytest.mark.parametrize('stage,epoch', [(1, 2), (2, 4)])
def test_sigkill_mid_epoch_then_resume_is_bit_identical(
        data_root, tmp_path, reference_run, stage, epoch):
    work_dir = str(tmp_path / 'killed')
    # the first iteration of `epoch` has been logged: the run is inside it
    run_and_kill(train_cmd(data_root, work_dir),
                 rf'Epoch\(train\)\s+\[{epoch}\]\[\s*1/')
    assert not osp.exists(osp.join(work_dir, f'epoch_{epoch}.pth'))
    output = run_to_end(train_cmd(data_root, work_dir, '--resume'))
    assert f'resumed epoch: {epoch - 1}' in output
    if stage == 2:
        # resumed inside stage 2: the classifier stays frozen
        assert 'stage 2 starts from the classifier' not in output
    assert_same_run(reference_run, work_dir)


@pytest.mark.slow
def test_sigkill_with_persistent_workers_then_resume_is_bit_identical(
        data_root, tmp_path):
    """As the configs load data: 2 persistent workers, whose generator
    states no checkpoint holds; they are reseeded from the epoch
    (fcam_mm.datasets.worker_seeding), so the resumed run is identical."""
    workers = ('train_dataloader.num_workers=2',
               'train_dataloader.persistent_workers=True')
    reference = str(tmp_path / 'reference_workers')
    run_to_end(train_cmd(data_root, reference, extra=workers))
    work_dir = str(tmp_path / 'killed_workers')
    run_and_kill(train_cmd(data_root, work_dir, extra=workers),
                 r'Epoch\(train\)\s+\[2\]\[\s*1/')
    run_to_end(train_cmd(data_root, work_dir, '--resume', extra=workers))
    assert_same_run(reference, work_dir)


@pytest.mark.slow
def test_sigkill_one_gloo_rank_then_resume_is_bit_identical(
        data_root, tmp_path):
    port = 29700 + os.getpid() % 200
    reference = str(tmp_path / 'reference2')
    run_to_end(train_cmd(data_root, reference, ranks=2, port=port))
    work_dir = str(tmp_path / 'killed2')

    def rank1(proc):
        # torchrun's agent -> its worker processes; rank 1 is the second
        workers = sorted(children(proc.pid))
        assert len(workers) == 2, workers
        return workers[1]

    run_and_kill(train_cmd(data_root, work_dir, ranks=2, port=port + 1),
                 r'Epoch\(train\)\s+\[2\]\[\s*1/', victim=rank1)
    output = run_to_end(train_cmd(data_root, work_dir, '--resume', ranks=2,
                                  port=port + 2))
    assert 'resumed epoch: 1' in output
    assert_same_run(reference, work_dir)


class WriterFault(RuntimeError):
    pass


def test_exception_inside_the_checkpoint_writer(data_root, tmp_path,
                                                monkeypatch):
    """The second checkpoint's write fails half-way: training stops with an
    error naming the file; epoch_1.pth, last_checkpoint and nothing else
    remain; --resume continues from epoch 1."""
    import fcam_mm.utils.checkpoint_saving as saving
    work_dir = str(tmp_path / 'writer')
    real_save = torch.save
    calls = []

    def failing_save(obj, f, *args, **kwargs):
        if 'meta' in obj and obj['meta'].get('epoch') == 2:
            calls.append(f.name)
            f.write(b'PK\x03\x04 half a checkpoint')
            raise WriterFault('injected: the writer died')
        return real_save(obj, f, *args, **kwargs)

    monkeypatch.setattr(saving.torch, 'save', failing_save)
    train = load_tool('train.py')
    argv = [CONFIG, '--work-dir', work_dir] + two_stage_options(
        data_root, 2, 2, *DETERMINISTIC)
    with pytest.raises(saving.CheckpointWriteError) as info:
        train.main(argv)
    assert osp.join(work_dir, 'epoch_2.pth') in str(info.value)
    assert 'injected: the writer died' in str(info.value)
    assert calls  # the fault happened inside the writer
    names = sorted(os.listdir(work_dir))
    assert 'epoch_2.pth' not in names
    assert not [n for n in names if '.tmp-' in n]
    assert 'epoch_1.pth' in names
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        assert f.read().strip().endswith('epoch_1.pth')
    weights(osp.join(work_dir, 'epoch_1.pth'))  # complete

    monkeypatch.setattr(saving.torch, 'save', real_save)
    runner = train.main([CONFIG, '--work-dir', work_dir, '--resume'] +
                        argv[3:])
    assert runner.epoch == 4
    assert osp.isfile(osp.join(work_dir, 'epoch_4.pth'))


def test_truncated_latest_checkpoint_falls_back(data_root, tmp_path):
    work_dir = str(tmp_path / 'truncated')
    train = load_tool('train.py')
    argv = [CONFIG, '--work-dir', work_dir] + two_stage_options(
        data_root, 2, 1, *DETERMINISTIC)
    train.main(argv)  # epochs 1-3; keeps epoch_2 and epoch_3
    latest = osp.join(work_dir, 'epoch_3.pth')
    size = osp.getsize(latest)
    with open(latest, 'r+b') as f:
        f.truncate(size // 2)
    with pytest.warns(UserWarning, match=re.escape(latest) +
                      '.*truncated or corrupt'):
        runner = train.main([CONFIG, '--work-dir', work_dir, '--resume'] +
                            argv[3:])
    # resumed after epoch 2 (the previous complete one), trained epoch 3
    assert runner.epoch == 3
    weights(latest)  # rewritten whole
    assert 'resumed epoch: 2' in runner_log(runner)


def test_explicit_corrupt_checkpoint_is_an_error(data_root, tmp_path):
    from fcam_mm.utils.resume import CorruptCheckpointError
    bad = tmp_path / 'epoch_9.pth'
    bad.write_bytes(b'not a checkpoint')
    with pytest.raises(CorruptCheckpointError, match=re.escape(str(bad))):
        load_tool('train.py').main(
            [CONFIG, '--work-dir', str(tmp_path / 'w'), '--resume',
             str(bad)] + two_stage_options(data_root, 1, 1))


@pytest.mark.skipif(hasattr(os, 'geteuid') and os.geteuid() == 0,
                    reason='root writes into read-only folders')
def test_read_only_work_dir_fails_before_training(data_root, tmp_path):
    from fcam_mm.utils.resume import WorkDirError
    work_dir = tmp_path / 'ro'
    work_dir.mkdir()
    work_dir.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        start = time.perf_counter()
        with pytest.raises(WorkDirError, match=re.escape(str(work_dir))):
            load_tool('train.py').main(
                [CONFIG, '--work-dir', str(work_dir)] +
                two_stage_options(data_root, 1, 1))
        assert time.perf_counter() - start < 30
    finally:
        work_dir.chmod(stat.S_IRWXU)
