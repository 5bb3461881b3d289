"""Stage-1 training and testing through the real tools, on a small synthetic
split: single process, resume, and two processes with dist_train.sh."""
import glob
import os
import os.path as osp
import pickle
import subprocess
import sys

import cv2
import pytest
import torch

from .tool_helpers import REPO, load_tool, options

CONFIG = osp.join(REPO, 'configs', 'wsol', 'cam_tinyresnet_synthetic.py')


def test_train_then_test(data_root, tmp_path):
    work_dir = str(tmp_path / 'work')
    load_tool('train.py').main([CONFIG, '--work-dir', work_dir] +
                               options(data_root))
    assert osp.isfile(osp.join(work_dir, 'epoch_2.pth'))
    best = glob.glob(osp.join(work_dir, 'best_cam_MaxBoxAcc_epoch_*.pth'))
    assert len(best) == 1
    out = str(tmp_path / 'preds.pkl')
    metrics = load_tool('test.py').main(
        [CONFIG, best[0], '--work-dir', work_dir, '--out', out] +
        options(data_root))
    for key in ('cam/MaxBoxAcc', 'cam/MaxBoxAccV2', 'cam/PxAP',
                'cls/top1'):
        assert 0.0 <= metrics[key] <= 100.0, key
    with open(out, 'rb') as f:
        predictions = pickle.load(f)
    assert len(predictions) == 9  # 3 classes x 3 test images
    assert predictions[0]['cam'].ndim == 2

    # --show-dir: one overlay per test image, the image beside its CAM panel
    # (the stage-1 model has no F-CAM map).
    load_tool('test.py').main(
        [CONFIG, best[0], '--work-dir', work_dir, '--show-dir', 'vis'] +
        options(data_root))
    overlays = sorted(glob.glob(osp.join(work_dir, '*', 'vis', '*.png')))
    assert len(overlays) == 9
    first = predictions[0]
    image = cv2.imread(overlays[0])
    height, width = first['ori_shape']
    assert image.shape == (height, 2 * width, 3)


def test_resume_continues_from_saved_epoch(data_root, tmp_path):
    work_dir = str(tmp_path / 'work')
    train = load_tool('train.py')
    keep_all = 'default_hooks.checkpoint.max_keep_ckpts=-1'
    train.main([CONFIG, '--work-dir', work_dir] +
               options(data_root, 1, keep_all))
    first_mtime = os.path.getmtime(osp.join(work_dir, 'epoch_1.pth'))
    runner = train.main([CONFIG, '--work-dir', work_dir, '--resume'] +
                        options(data_root, 3, keep_all))
    assert runner.epoch == 3
    # Resumed, not restarted: epoch 1 was not trained (nor saved) again,
    # the log says where it resumed, and the saved epoch counter goes on.
    assert os.path.getmtime(osp.join(work_dir, 'epoch_1.pth')) == first_mtime
    logs = sorted(glob.glob(osp.join(work_dir, '*', '*.log')))
    assert 'resumed epoch: 1' in open(logs[-1]).read()
    ckpt = torch.load(osp.join(work_dir, 'epoch_3.pth'), map_location='cpu')
    assert ckpt['meta']['epoch'] == 3


@pytest.mark.skipif(sys.platform != 'linux', reason='uses bash and torchrun')
def test_dist_train_two_processes_on_cpu(data_root, tmp_path):
    work_dir = str(tmp_path / 'dist')
    env = dict(os.environ)
    env['PATH'] = osp.dirname(sys.executable) + os.pathsep + env['PATH']
    env['PORT'] = str(29500 + os.getpid() % 1000)
    env['OMP_NUM_THREADS'] = '1'
    cmd = ['bash', osp.join(REPO, 'tools', 'dist_train.sh'), CONFIG, '2',
           '--work-dir', work_dir] + options(data_root, 1)
    result = subprocess.run(
        cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert glob.glob(osp.join(work_dir, 'epoch_1.pth'))
    assert len(glob.glob(osp.join(work_dir, '*.pth'))) >= 1
    logs = sorted(glob.glob(osp.join(work_dir, '*', '*.log')))
    log = open(logs[-1]).read()
    assert 'Distributed training: True' in log
    assert 'GPU number: 2' in log  # mmengine's name for the world size
    assert "dist_cfg=dict(backend='gloo')" in log
