"""tools/slurm_{train,test}.sh hand srun every argument as given: a
--cfg-options value with a space stays one argument (a fake srun on PATH
records what it receives)."""
import os
import os.path as osp
import subprocess
import sys

import pytest

from .tool_helpers import REPO

pytestmark = pytest.mark.skipif(sys.platform != 'linux', reason='bash')


def run_with_fake_srun(tmp_path, script, *args):
    record = tmp_path / 'argv.txt'
    fake = tmp_path / 'bin' / 'srun'
    fake.parent.mkdir()
    fake.write_text('#!/usr/bin/env bash\nprintf "%s\\n" "$@" > '
                    f'"{record}"\n')
    fake.chmod(0o755)
    env = dict(os.environ, PATH=f'{fake.parent}:{os.environ["PATH"]}',
               GPUS='2', GPUS_PER_NODE='2', SRUN_ARGS='--quiet --exclusive')
    subprocess.run(['bash', osp.join(REPO, 'tools', script), *args],
                   check=True, env=env, capture_output=True)
    return record.read_text().splitlines()


def test_slurm_train_keeps_arguments_whole(tmp_path):
    argv = run_with_fake_srun(
        tmp_path, 'slurm_train.sh', 'part', 'job', 'my configs/a.py',
        'work dir', '--cfg-options', 'model.name=a b')
    assert argv[:2] == ['-p', 'part']
    assert '--quiet' in argv and '--exclusive' in argv  # SRUN_ARGS split
    tail = argv[argv.index('-u') + 2:]
    assert tail == ['my configs/a.py', '--work-dir=work dir',
                    '--launcher=slurm', '--cfg-options', 'model.name=a b']


def test_slurm_test_keeps_arguments_whole(tmp_path):
    argv = run_with_fake_srun(
        tmp_path, 'slurm_test.sh', 'part', 'job', 'a.py', 'my ckpt.pth',
        '--out', 'x y.pkl')
    tail = argv[argv.index('-u') + 2:]
    assert tail == ['a.py', 'my ckpt.pth', '--launcher=slurm', '--out',
                    'x y.pkl']
