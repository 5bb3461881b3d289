"""The built package works away from the repository: ``pip wheel . --no-deps``
(from the tracked files), installed with its ``[lite]`` extra into a fresh
venv that has the pinned torch, imports, finds its configs, tools and model
zoo under ``fcam_mm/.mim``, and ``tools/test.py`` run from a folder outside
the repo gives the metrics the repository's own checkout gives on the same
data."""
import os
import os.path as osp
import re
import shutil
import subprocess
import sys

import pytest

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
LOCK = osp.join(REPO, 'requirements', 'constraints.txt')


def run(cmd, cwd, timeout=900):
    env = {k: v for k, v in os.environ.items()
           if k not in ('PYTHONPATH', 'VIRTUAL_ENV', 'PYTHONHOME')}
    env['OMP_NUM_THREADS'] = '1'
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout)
    assert proc.returncode == 0, (
        f'{cmd} failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n'
        f'{proc.stderr[-3000:]}')
    return proc.stdout + proc.stderr


def logged_metrics(output):
    """The metrics of the last ``Epoch(test)`` line, without timings."""
    line = [ln for ln in output.splitlines() if 'Epoch(test)' in ln][-1]
    pairs = re.findall(r'(\S+): (-?\d+\.\d+)', line)
    return {k: float(v) for k, v in pairs if k not in ('time', 'data_time')}


@pytest.mark.slow
def test_wheel_in_a_fresh_venv(tmp_path):
    try:
        tracked = subprocess.run(
            ['git', 'ls-files', '-z'], cwd=REPO, capture_output=True,
            check=True).stdout.decode().split('\0')
    except (OSError, subprocess.CalledProcessError):
        pytest.skip('needs a git checkout (the wheel is built from the '
                    'tracked files)')
    # Build from a copy of the tracked files: building in place would turn
    # the editable install's fcam_mm/.mim links into copies.
    src = tmp_path / 'src'
    for name in filter(None, tracked):
        if osp.isfile(osp.join(REPO, name)):
            os.makedirs(src / osp.dirname(name), exist_ok=True)
            shutil.copy2(osp.join(REPO, name), src / name)
    run([sys.executable, '-m', 'pip', 'wheel', str(src), '--no-deps',
         '--no-build-isolation', '-w', str(tmp_path / 'dist'), '-q'],
        cwd=tmp_path)
    wheel, = os.listdir(tmp_path / 'dist')

    venv = tmp_path / 'venv'
    run([sys.executable, '-m', 'venv', str(venv)], cwd=tmp_path)
    py = str(venv / 'bin' / 'python')
    # torch first, as make install does (the pinned releases are local).
    run([py, '-m', 'pip', 'install', '-q', '-c', LOCK, 'torch',
         'torchvision'], cwd=tmp_path)
    run([py, '-m', 'pip', 'install', '-q', '-c', LOCK,
         f'{tmp_path / "dist" / wheel}[lite]'], cwd=tmp_path)

    outside = tmp_path / 'outside'
    outside.mkdir()
    package = run([py, '-c', 'import fcam_mm, os; '
                   'print(os.path.dirname(fcam_mm.__file__))'],
                  cwd=outside).strip().splitlines()[-1]
    assert package.startswith(str(venv)), package
    mim = osp.join(package, '.mim')
    for name in ('configs/fcam/tinyresnet_synthetic.py', 'tools/test.py',
                 'model-index.yml',
                 'checkpoints/fcam_tinyresnet_synthetic-12fbf420.pth'):
        assert osp.isfile(osp.join(mim, name)), name
        assert not osp.islink(osp.join(mim, name)), name

    # the config builds (its _base_ files resolve inside the package)
    run([py, osp.join(mim, 'tools', 'misc', 'print_config.py'),
         osp.join(mim, 'configs', 'fcam', 'tinyresnet_synthetic.py')],
        cwd=outside)

    run([py, osp.join(mim, 'tools', 'dataset_converters',
                      'make_synthetic.py'), 'data/synthetic',
         '--train-per-class', '1', '--val-per-class', '1',
         '--test-per-class', '2'], cwd=outside)
    installed = logged_metrics(run(
        [py, osp.join(mim, 'tools', 'test.py'),
         osp.join(mim, 'configs', 'fcam', 'tinyresnet_synthetic.py'),
         'fcam_tinyresnet_synthetic', '--work-dir', 'work'], cwd=outside))
    checkout = logged_metrics(run(
        [sys.executable, osp.join(REPO, 'tools', 'test.py'),
         osp.join(REPO, 'configs', 'fcam', 'tinyresnet_synthetic.py'),
         'fcam_tinyresnet_synthetic', '--work-dir', 'work_repo'],
        cwd=outside))
    assert 'fcam/MaxBoxAcc' in installed and 'cls/top1' in installed
    assert installed == checkout
