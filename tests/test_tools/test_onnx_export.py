"""tools/deployment/pytorch2onnx.py: the exported graph reproduces
PyTorch's scores, CAM and F-CAM map in onnxruntime; methods that cannot be
exported are refused with the reason."""
import os.path as osp

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config

from fcam_mm.apis import init_localizer
from fcam_mm.apis.onnx_export import (UnsupportedExportError,
                                      check_exportable,
                                      compare_with_onnxruntime,
                                      network_input_size)
from .tool_helpers import REPO, load_tool

pytest.importorskip('onnx')
pytest.importorskip('onnxscript')
onnxruntime = pytest.importorskip('onnxruntime')

FCAM = osp.join(REPO, 'configs', 'fcam', 'tinyresnet_synthetic.py')
STAGE1 = osp.join(REPO, 'configs', 'wsol', 'cam_tinyresnet_synthetic.py')


def random_checkpoint(config, path):
    """Random (seeded) weights, BN statistics away from their defaults so
    that eval-mode BN is exercised."""
    model = init_localizer(config)
    torch.manual_seed(0)
    with torch.no_grad():
        for name, buf in model.named_buffers():
            if name.endswith('running_var'):
                buf.uniform_(0.5, 2.0)
            elif name.endswith('running_mean'):
                buf.normal_(0, 0.1)
    torch.save(dict(state_dict=model.state_dict()), path)
    return path


def test_fcam_export_matches_pytorch(tmp_path, capsys):
    ckpt = random_checkpoint(FCAM, str(tmp_path / 'fcam.pth'))
    image = np.random.default_rng(0).integers(0, 256, (90, 120, 3),
                                              np.uint8)
    cv2.imwrite(str(tmp_path / 'img.png'), image)
    out = str(tmp_path / 'fcam.onnx')
    diffs = load_tool('deployment/pytorch2onnx.py').main([
        FCAM, '--checkpoint', ckpt, '--output-file', out, '--image',
        str(tmp_path / 'img.png')
    ])
    printed = capsys.readouterr().out
    assert set(diffs) == {'scores', 'cam', 'fcam'}
    assert max(diffs.values()) < 1e-4
    for name in diffs:
        assert f'max |onnxruntime - pytorch| {name}:' in printed

    # The batch axis is dynamic: 3 random images through a graph exported
    # with batch 1, shapes as predict gives them.
    model = init_localizer(FCAM, ckpt)
    session = onnxruntime.InferenceSession(
        out, providers=['CPUExecutionProvider'])
    inputs = torch.randn(3, 3, 128, 128, generator=torch.Generator()
                         .manual_seed(1))
    scores, cam, fcam = session.run(None, {'inputs': inputs.numpy()})
    classes = Config.fromfile(FCAM).model.head.num_classes
    assert scores.shape == (3, classes) and fcam.shape == (3, 128, 128)
    assert cam.shape == (3, 16, 16)  # TinyResNet: output stride 8
    np.testing.assert_allclose(scores.sum(axis=1), 1.0, atol=1e-5)
    assert max(compare_with_onnxruntime(model, out, inputs).values()) < 1e-4

    # The comparison is not vacuous: other weights, large differences.
    with torch.no_grad():
        for p in model.decoder.parameters():
            p.mul_(-1.0)
        model.head.fc.weight.mul_(2.0)
    changed = compare_with_onnxruntime(model, out, inputs)
    assert changed['fcam'] > 1e-2 and changed['scores'] > 1e-3


def test_stage1_export_has_no_fcam_output(tmp_path):
    ckpt = random_checkpoint(STAGE1, str(tmp_path / 'cam.pth'))
    out = str(tmp_path / 'cam.onnx')
    diffs = load_tool('deployment/pytorch2onnx.py').main(
        [STAGE1, '--checkpoint', ckpt, '--output-file', out])
    assert set(diffs) == {'scores', 'cam'}
    assert max(diffs.values()) < 1e-4


@pytest.mark.parametrize('method, reason', [
    ('GradCAM', 'autograd'),
    ('GradCAMPlusPlus', 'autograd'),
    ('LayerCAM', 'autograd'),
    ('HiResCAM', 'autograd'),
    ('EigenCAM', 'no ONNX operator'),
    ('ScoreCAM', 'unrolled into the graph'),
])
def test_unexportable_methods_are_refused(method, reason):
    model = init_localizer(FCAM, cfg_options={'model.cam.type': method})
    with pytest.raises(UnsupportedExportError,
                       match=rf'cannot export {method} to ONNX: .*{reason}'
                       r'.*Exportable CAM methods: CAM'):
        check_exportable(model)


def test_network_input_size_from_the_test_pipeline():
    assert network_input_size(init_localizer(FCAM).cfg) == (128, 128)
    cfg = init_localizer(FCAM).cfg
    cfg.test_dataloader.dataset.pipeline[2] = dict(
        type='Resize', scale=(200, 100), keep_ratio=False)
    assert network_input_size(cfg) == (100, 200)  # scale is (W, H)
    cfg.test_dataloader.dataset.pipeline[2]['keep_ratio'] = True
    with pytest.raises(ValueError, match='give the input shape'):
        network_input_size(cfg)
