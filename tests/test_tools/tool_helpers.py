"""Shared by the tool tests: a small synthetic split and tool loading."""
import os.path as osp

from fcam_mm.utils import load_script

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def load_tool(name):
    return load_script(osp.join(REPO, 'tools', name))


def make_small_synthetic(root):
    from fcam_mm.datasets.synthetic import generate_synthetic_dataset
    generate_synthetic_dataset(
        root, seed=3, num_classes=3, per_class=dict(train=6, val=3, test=3))
    return root


def options(data_root, epochs=2, *extra):
    opts = ['model.head.num_classes=3', f'train_cfg.max_epochs={epochs}',
            'default_hooks.logger.interval=1']
    for split in ('train', 'val', 'test'):
        opts += [
            f'{split}_dataloader.dataset.data_root={data_root}',
            f'{split}_dataloader.batch_size=8',
            f'{split}_dataloader.num_workers=0',
            f'{split}_dataloader.persistent_workers=False',
        ]
    return ['--cfg-options'] + opts + list(extra)


def runner_log(runner):
    """The text of the log file ``runner``'s logger writes. Not
    ``work_dir/*/*.log``: two runners built within the same second share
    mmengine's timestamped logger instance, whose file is in the first
    runner's work dir."""
    files = [h.baseFilename for h in runner.logger.handlers
             if hasattr(h, 'baseFilename')]
    assert files, 'the runner logs to no file'
    with open(files[0]) as f:
        return f.read()


def run_tool(name, *args, cwd=None):
    """``python tools/<name> ARGS`` in a child process, as a user runs it
    (one thread; output captured as text)."""
    import os
    import subprocess
    import sys
    env = dict(os.environ, OMP_NUM_THREADS='1')
    return subprocess.run(
        [sys.executable, osp.join(REPO, 'tools', name), *map(str, args)],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
