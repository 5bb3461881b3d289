"""The worked examples of docs/adding_components.md and docs/testing.md.

The modules and leaf configs under docs/examples/ are the code the pages
show; here they are imported the way a user's project imports them (the
folder on ``sys.path``, ``custom_imports`` in the configs), built through
the registry, checked against numbers worked out by hand or by an
independent computation, and trained for one iteration."""
import glob
import importlib
import os.path as osp
import pickle
import re
import sys

import numpy as np
import pytest
import torch
import torch.nn as nn
from mmengine.config import Config

from fcam_mm.registry import MODELS
from fcam_mm.structures import WSOLDataSample
from .test_models.test_cams import (ToyLocalizer, autograd_gradient,
                                    quadratic_grad, toy_inputs)
from .test_tools.tool_helpers import REPO, load_tool, options

EXAMPLES = osp.join(REPO, 'docs', 'examples')
CONFIGS = osp.join(EXAMPLES, 'configs')
PAGES = [osp.join(REPO, 'docs', name)
         for name in ('adding_components.md', 'testing.md')]
EXAMPLE_MODULES = ('my_cams', 'my_backbones', 'my_losses', 'my_localizers',
                   'load_predictions')
EXAMPLE_TYPES = ('ElementWiseGradCAM', 'PlainConvNet', 'PixelEntropyLoss',
                 'EntropyFCAMLocalizer')


@pytest.fixture(scope='module', autouse=True)
def examples_importable():
    """docs/examples on ``sys.path``, as ``PYTHONPATH=docs/examples`` puts
    it for a user. Afterwards the example modules are forgotten and their
    types unregistered: the rest of the suite sees fcam_mm's registry."""
    sys.path.insert(0, EXAMPLES)
    for name in EXAMPLE_MODULES:
        importlib.import_module(name)
    yield
    sys.path.remove(EXAMPLES)
    for name in EXAMPLE_MODULES:
        sys.modules.pop(name, None)
    for name in EXAMPLE_TYPES:
        MODELS._module_dict.pop(name, None)


def example_config(name):
    return Config.fromfile(osp.join(CONFIGS, name))


# ------------------------------------------------------- the pages show them
def shown_files():
    """``{path: code}`` of every block of the two pages whose first line is
    ``# docs/examples/...`` (that line is not part of the file)."""
    shown = {}
    for page in PAGES:
        text = open(page, encoding='utf-8').read()
        for block in re.findall(r'```python\n(.*?)```', text, flags=re.S):
            first, _, code = block.partition('\n')
            if first.startswith('# docs/examples/'):
                shown[first[2:].strip()] = code
    return shown


def test_pages_show_every_example_file_as_it_is():
    files = sorted(
        osp.relpath(p, REPO)
        for p in glob.glob(osp.join(EXAMPLES, '**', '*.py'), recursive=True))
    shown = shown_files()
    assert sorted(shown) == files
    for path, code in shown.items():
        assert code == open(osp.join(REPO, path), encoding='utf-8').read(), \
            path


def test_pages_name_real_tools_and_options():
    """Each ``tools/...`` command of the two pages names an existing
    script, and each ``--option`` after it is one that script parses."""
    text = ''.join(open(page, encoding='utf-8').read() for page in PAGES)
    shell = '\n'.join(re.findall(r'```bash\n(.*?)```', text, flags=re.S))
    shell = shell.replace('\\\n', ' ')  # one line per command
    commands = re.findall(r'(tools/\S+\.(?:py|sh))([^\n]*)', shell)
    assert len(commands) >= 8
    checked = 0
    for script, rest in commands:
        path = osp.join(REPO, script)
        assert osp.isfile(path), script
        source = open(path, encoding='utf-8').read()
        if script.endswith('.sh'):
            source += open(osp.join(REPO, 'tools', 'test.py')).read()
        for flag in re.findall(r'\s(--[a-z][a-z-]*)', rest):
            checked += 1
            assert f"'{flag}'" in source, f'{script} has no {flag}'
    assert checked >= 20


# --------------------------------------------------- configs build by type
def test_example_configs_build_through_the_registry():
    built = {}
    for path in sorted(glob.glob(osp.join(CONFIGS, '*.py'))):
        cfg = Config.fromfile(path)  # imports cfg.custom_imports
        assert cfg.default_scope == 'fcam_mm'
        model = MODELS.build(cfg.model)
        widths = model.backbone.out_channels
        assert model.head.in_channels == widths[-1], path
        if hasattr(model, 'decoder'):
            assert model.decoder.in_channels == widths, path
        built[osp.basename(path)] = model
    cam_model = built['elementwise_gradcam_tinyresnet_synthetic.py']
    assert type(cam_model.cam).__name__ == 'ElementWiseGradCAM'
    assert type(cam_model).__name__ == 'WSOLLocalizer'
    backbone_model = built['fcam_plainconvnet_synthetic.py']
    assert type(backbone_model.backbone).__name__ == 'PlainConvNet'
    assert backbone_model.backbone.out_channels == (16, 32, 64, 96)
    loss_model = built['fcam_entropy_tinyresnet_synthetic_stage2.py']
    assert type(loss_model).__name__ == 'EntropyFCAMLocalizer'
    assert loss_model.entropy_loss.loss_weight == 0.1


def test_configs_inherit_from_the_installed_package_path(monkeypatch):
    """``FCAM_MM_CONFIGS`` replaces the default (the repository's configs)
    in ``_base_``: pointed at the package's ``.mim/configs`` (an installed
    fcam_mm), the leaf is the same config."""
    import fcam_mm
    packaged = osp.join(osp.dirname(fcam_mm.__file__), '.mim', 'configs')
    if not osp.isdir(packaged):
        pytest.skip('fcam_mm is not installed with its .mim/configs')
    name = 'fcam_plainconvnet_synthetic.py'
    default = Config.fromfile(osp.join(CONFIGS, name))
    monkeypatch.setenv('FCAM_MM_CONFIGS', packaged)
    installed = Config.fromfile(osp.join(CONFIGS, name))
    assert installed.model.to_dict() == default.model.to_dict()
    assert installed.train_dataloader == default.train_dataloader
    monkeypatch.setenv('FCAM_MM_CONFIGS', '/nonexistent/configs')
    with pytest.raises(FileNotFoundError):
        Config.fromfile(osp.join(CONFIGS, name))


# ------------------------------------------------------------ the CAM method
def test_elementwise_gradcam_combine_by_hand():
    """Two channels on a 1×2 map, A = ((1, 2), (-3, 1)), g = ((2, 2),
    (1, 1)): the products g·A are (2, 4) and (-3, 1), so
    Σ_k ReLU(g_k A_k) = (2, 5), whereas HiResCAM's ReLU(Σ_k g_k A_k) and
    LayerCAM's ReLU(Σ_k ReLU(g_k) A_k) are both (0, 5)."""
    A = torch.tensor([[[[1., 2.]], [[-3., 1.]]]])
    g = torch.tensor([[[[2., 2.]], [[1., 1.]]]])
    maps = MODELS.build(dict(type='ElementWiseGradCAM')).combine(A, g)
    assert maps.tolist() == [[[2., 5.]]]
    for other in ('HiResCAM', 'LayerCAM'):
        assert MODELS.build(dict(type=other)).combine(A, g).tolist() == \
            [[[0., 5.]]], other


def test_elementwise_gradcam_is_layercam_on_non_negative_activations():
    """ReLU(g·A) = ReLU(g)·A for A >= 0 (the docstring's remark), e.g. on
    every output of TinyResNet, which ends with a ReLU."""
    torch.manual_seed(7)
    A = torch.rand(2, 5, 3, 4)
    g = torch.randn(2, 5, 3, 4)
    torch.testing.assert_close(
        MODELS.build(dict(type='ElementWiseGradCAM')).combine(A, g),
        MODELS.build(dict(type='LayerCAM')).combine(A, g))


def test_elementwise_gradcam_on_the_toy_network():
    """The whole call (one forward, one backward) against the formula on a
    network whose gradient is known in closed form."""
    A, W, targets = toy_inputs()
    maps, _ = MODELS.build(dict(type='ElementWiseGradCAM'))(
        ToyLocalizer(W.clone()), A, targets)
    for i, c in enumerate(targets.tolist()):
        a = A[i].numpy()
        g = quadratic_grad(a, W.numpy(), c)
        expected = np.zeros(a.shape[1:])
        for k in range(a.shape[0]):
            expected += np.maximum(g[k] * a[k], 0)
        np.testing.assert_allclose(maps[i].numpy(), expected, rtol=1e-10,
                                   atol=1e-12)


@pytest.mark.parametrize('layer', [-1, -2])
def test_elementwise_gradcam_on_plainconvnet_matches_autograd(layer):
    """On the example backbone, at the top map and (through its
    ``forward_from``) one stage below, against per-image autograd through
    the ordinary forward."""
    torch.manual_seed(0)
    model = MODELS.build(dict(
        type='WSOLLocalizer', backbone=dict(type='PlainConvNet'),
        head=dict(type='GAPClsHead', num_classes=4, in_channels=96),
        cam=dict(type='ElementWiseGradCAM', target_layer=layer))).eval()
    nn.init.normal_(model.head.fc.weight)
    images = torch.randn(2, 3, 32, 32)
    targets = torch.tensor([3, 1])
    with torch.no_grad():
        maps, _ = model.cam(model, images, targets)
    for i in range(2):
        a, g = autograd_gradient(model, images[i], int(targets[i]), layer)
        np.testing.assert_allclose(maps[i].numpy(),
                                   np.maximum(g * a, 0).sum(axis=0),
                                   rtol=1e-4, atol=1e-7)
        assert maps[i].abs().max() > 0


# --------------------------------------------------------------- the backbone
def test_plainconvnet_output_shapes_and_forward_from():
    torch.manual_seed(1)
    backbone = MODELS.build(dict(type='PlainConvNet')).eval()
    x = torch.randn(2, 3, 224, 224)
    with torch.no_grad():
        feats = backbone(x)
        assert [tuple(f.shape[1:]) for f in feats] == [
            (16, 112, 112), (32, 56, 56), (64, 28, 28), (96, 28, 28)]
        for i in range(len(feats) - 1):
            tail = backbone.forward_from(feats[i], i)
            assert len(tail) == len(feats) - i - 1
            for got, want in zip(tail, feats[i + 1:]):
                torch.testing.assert_close(got, want)
        some = MODELS.build(dict(type='PlainConvNet', out_indices=(1, -1)))
        some.load_state_dict(backbone.state_dict())
        got = some.eval()(x)
    assert len(got) == 2
    torch.testing.assert_close(got[0], feats[1])
    torch.testing.assert_close(got[1], feats[3])
    with pytest.raises(ValueError, match='differ in length'):
        MODELS.build(dict(type='PlainConvNet', widths=(8, 16),
                          strides=(2, )))


def test_plainconvnet_loads_a_sequential_checkpoint(tmp_path):
    """``convert_pretrained``: the same network written as one
    ``nn.Sequential`` (conv, BN, ReLU per stage, plus a classifier that is
    dropped) loads by key name and then computes the same top map."""
    torch.manual_seed(2)
    layers, channels = [], 3
    for width, stride in zip((16, 32, 64, 96), (2, 2, 2, 1)):
        layers += [nn.Conv2d(channels, width, 3, stride, 1, bias=False),
                   nn.BatchNorm2d(width), nn.ReLU()]
        channels = width
    reference = nn.Module()
    reference.features = nn.Sequential(*layers)
    reference.classifier = nn.Linear(96, 5)
    for module in reference.features:
        if isinstance(module, nn.BatchNorm2d):  # not the default init
            nn.init.uniform_(module.weight, 0.5, 1.5)
            nn.init.uniform_(module.running_var, 0.5, 1.5)
            nn.init.normal_(module.running_mean)
    path = str(tmp_path / 'plain.pth')
    torch.save(reference.state_dict(), path)
    backbone = MODELS.build(dict(
        type='PlainConvNet',
        init_cfg=dict(type='Pretrained', checkpoint=path)))
    backbone.init_weights()
    x = torch.randn(1, 3, 40, 40)
    with torch.no_grad():
        torch.testing.assert_close(backbone.eval()(x)[-1],
                                   reference.features.eval()(x))


def test_decoder_width_must_follow_the_backbone():
    """Leaving the TinyResNet decoder widths in place is an error that
    names the mismatch at the first forward."""
    cfg = example_config('fcam_plainconvnet_synthetic.py')
    cfg.model.decoder.in_channels = (16, 32, 64, 128)
    model = MODELS.build(cfg.model)
    with pytest.raises(ValueError, match=r'\(B, 128, h, w\), got \(1, 96'):
        model.predict(torch.randn(1, 3, 32, 32))


# ------------------------------------------------------------- the loss term
def test_pixel_entropy_by_hand():
    """Pixel 1: logits (0, ln 3) → S = (1/4, 3/4), H = ln 4 − ¾ ln 3;
    pixel 2: logits (0, 0) → H = ln 2; λ_ent = 0.1 times their mean."""
    logits = torch.tensor([[[[0., 0.]], [[np.log(3.), 0.]]]],
                          dtype=torch.float64)
    loss = MODELS.build(dict(type='PixelEntropyLoss'))(logits)
    expected = 0.1 * (np.log(4) - 0.75 * np.log(3) + np.log(2)) / 2
    assert loss.item() == pytest.approx(expected, rel=1e-12)


def test_pixel_entropy_is_finite_when_saturated():
    logits = torch.tensor([[[[0.]], [[1000.]]]], requires_grad=True)
    loss = MODELS.build(dict(type='PixelEntropyLoss', loss_weight=1.0))(
        logits)
    loss.backward()
    assert loss.item() == pytest.approx(0.0, abs=1e-30)
    assert torch.isfinite(logits.grad).all()
    with pytest.raises(ValueError, match='λ_ent'):
        MODELS.build(dict(type='PixelEntropyLoss', loss_weight=-1.0))


def stage2_pair():
    """The example localizer and a plain FCAMLocalizer with the same
    weights, both in stage 2."""
    cfg = example_config('fcam_entropy_tinyresnet_synthetic_stage2.py')
    cfg.model.head.num_classes = 3
    torch.manual_seed(3)
    example = MODELS.build(cfg.model)
    plain_cfg = cfg.model.copy()
    plain_cfg.pop('entropy_loss')
    plain_cfg['type'] = 'FCAMLocalizer'
    plain = MODELS.build(plain_cfg)
    plain.load_state_dict(example.state_dict())
    for model in (example, plain):
        model.set_stage(2)
        model.train()
    return example, plain


def stage2_inputs():
    torch.manual_seed(4)
    images = torch.rand(2, 3, 32, 32) * 255
    samples = [WSOLDataSample().set_gt_label(c) for c in (2, 0)]
    return images, samples


def test_example_localizer_adds_one_term_to_fcam():
    """Stage 2: every term of FCAMLocalizer.loss, with the same value (same
    seeds), plus ``loss_entropy`` = PixelEntropyLoss of the decoder's
    logits; stage 1 is FCAMLocalizer's."""
    example, plain = stage2_pair()
    images, samples = stage2_inputs()
    inputs = example.data_preprocessor(
        dict(inputs=list(images), data_samples=samples), True)['inputs']
    torch.manual_seed(5)
    got = example.loss(inputs, samples)
    torch.manual_seed(5)
    want = plain.loss(inputs, samples)
    assert set(got) == set(want) | {'loss_entropy'}
    for key, value in want.items():
        torch.testing.assert_close(got[key], value, msg=key)
    with torch.no_grad():
        logits = example.decoder(example.extract_feat(inputs),
                                 inputs.shape[-2:])
    torch.testing.assert_close(got['loss_entropy'],
                               example.entropy_loss(logits))
    got['loss_entropy'].backward()
    decoder_grads = [p.grad for p in example.decoder.parameters()]
    assert all(g is not None for g in decoder_grads)
    assert all(p.grad is None for p in example.backbone.parameters())

    example.entropy_loss = None  # the term off: exactly FCAM's terms
    torch.manual_seed(5)
    assert set(example.loss(inputs, samples)) == set(want)
    for model in (example, plain):
        model.set_stage(1)
    assert example.loss(inputs, samples)['loss_cls'].item() == \
        pytest.approx(plain.loss(inputs, samples)['loss_cls'].item())


# ------------------------------------------------- one training iteration
def test_entropy_config_trains_one_iteration(tmp_path):
    """tools/train.py on the loss example's leaf, stage 2 from a saved
    classifier, one iteration of 4 images: the new term is logged, the
    total is the sum of the terms, the classifier stays the saved one and
    only the decoder got gradients (SGD momentum buffers)."""
    from .test_tools.tool_helpers import make_small_synthetic
    data_root = make_small_synthetic(str(tmp_path / 'data'))
    config = osp.join(CONFIGS, 'fcam_entropy_tinyresnet_synthetic_stage2.py')
    cfg = Config.fromfile(config)
    cfg.model.head.num_classes = 3
    torch.manual_seed(6)
    classifier = MODELS.build(cfg.model).state_dict()
    stage1 = str(tmp_path / 'stage1.pth')
    torch.save(dict(state_dict=classifier), stage1)
    work_dir = str(tmp_path / 'work')
    runner = load_tool('train.py').main(
        [config, '--work-dir', work_dir] + options(
            data_root, 1, f'custom_hooks.0.stage1_checkpoint={stage1}',
            'train_dataloader.dataset.indices=4',
            'train_dataloader.batch_size=4', 'train_cfg.val_interval=2'))
    assert runner.iter == 1
    hub = runner.message_hub
    terms = {key: hub.get_scalar(f'train/{key}').current()
             for key in ('loss_seed', 'loss_crf', 'loss_size',
                         'loss_entropy')}
    assert all(np.isfinite(v) for v in terms.values())
    assert 0 < terms['loss_entropy'] <= 0.1 * np.log(2) + 1e-6
    assert hub.get_scalar('train/loss').current() == pytest.approx(
        sum(terms.values()), rel=1e-5)
    saved = torch.load(osp.join(work_dir, 'epoch_1.pth'), map_location='cpu')
    state = saved['state_dict']
    for key, value in classifier.items():
        if key.startswith(('backbone.', 'head.')):
            torch.testing.assert_close(state[key], value, msg=key)
    names = [n for n, _ in runner.model.named_parameters()]
    momentum = saved['optimizer']['state']
    with_buffer = {names[i].split('.')[0] for i in momentum}
    assert with_buffer == {'decoder'}


# ------------------------------------------------- reading --out predictions
def test_load_predictions_reads_a_dump_and_refuses_code(tmp_path):
    from mmengine.evaluator import DumpResults

    from load_predictions import load_predictions
    samples = [dict(img_path='a.png', ori_shape=(5, 7), cam=torch.rand(3, 4),
                    pred_score=torch.rand(10).double(),
                    gt_label=torch.tensor([2]),
                    gt_mask=np.eye(5, 7, dtype=np.uint8),
                    gt_bboxes=torch.tensor([[0., 1., 4., 3.]]),
                    score=np.float32(0.5))]
    dump = DumpResults(out_file_path=str(tmp_path / 'preds.pkl'))
    dump.process({}, samples)
    dump.compute_metrics(dump.results)  # what tools/test.py --out runs
    loaded = load_predictions(str(tmp_path / 'preds.pkl'))
    with open(tmp_path / 'preds.pkl', 'rb') as f:
        trusted = pickle.load(f)
    assert len(loaded) == 1 and loaded[0].keys() == trusted[0].keys()
    for key, value in trusted[0].items():
        got = loaded[0][key]
        assert type(got) is type(value), key
        if isinstance(value, torch.Tensor):
            assert got.dtype == value.dtype and torch.equal(got, value)
        elif isinstance(value, np.ndarray):
            assert got.dtype == value.dtype and np.array_equal(got, value)
        else:
            assert got == value

    class RunsCode:

        def __reduce__(self):
            return (print, ('this ran',))

    for payload in ([RunsCode()], [np.array([1, 'a'], dtype=object)]):
        path = tmp_path / 'evil.pkl'
        path.write_bytes(pickle.dumps(payload))
        with pytest.raises(pickle.UnpicklingError, match='evil.pkl'):
            load_predictions(str(path))
