"""WSOL backbones: shapes (Table F.2 / F.4), parameter counts, re-entry at
any output, and ImageNet weights loaded by key name from torchvision-format
checkpoints (random weights written to a temporary file: no download)."""
import pytest
import torch
import torchvision

from fcam_mm.models.backbones import (InceptionV3WSOL, ResNet50WSOL,
                                      TinyResNet, VGG16WSOL)
from fcam_mm.registry import MODELS

# name, skips of Table F.2, spatial sizes at 224 and at 64.
SPECS = {
    'ResNet50WSOL': ((64, 256, 512, 1024, 2048), (112, 56, 28, 28, 28),
                     (32, 16, 8, 8, 8)),
    'VGG16WSOL': ((128, 256, 1024), (112, 56, 28), (32, 16, 8)),
    'InceptionV3WSOL': ((64, 80, 288, 768, 1024), (110, 56, 28, 28, 28),
                        (30, 16, 8, 8, 8)),
}
# Parameters of backbone + 200-class GAP head: exact, and Table F.4's #PCL.
PARAMS = {
    'ResNet50WSOL': (23_508_032, 23.9),
    'VGG16WSOL': (19_434_304, 19.6),
    'InceptionV3WSOL': (25_482_976, 25.6),
}


def build(name, **kwargs):
    return MODELS.build(dict(type=name, **kwargs)).eval()


@pytest.mark.parametrize('name', list(SPECS))
def test_output_shapes(name):
    channels, at224, at64 = SPECS[name]
    model = build(name)
    assert model.out_channels == channels
    with torch.no_grad():
        outs = model(torch.randn(2, 3, 64, 64))
        top = model(torch.randn(1, 3, 224, 224))
    assert [tuple(o.shape) for o in outs] == [
        (2, c, s, s) for c, s in zip(channels, at64)]
    assert [tuple(o.shape[1:]) for o in top] == [
        (c, s, s) for c, s in zip(channels, at224)]
    assert top[-1].shape[-2:] == (28, 28)  # Table F.4: 28×28 top maps


@pytest.mark.parametrize('name', list(PARAMS))
def test_parameter_count_matches_table_f4(name):
    exact, table = PARAMS[name]
    backbone = build(name)
    count = sum(p.numel() for p in backbone.parameters())
    assert count == exact
    top = backbone.out_channels[-1]
    classifier = count + top * 200 + 200  # GAP head, 200 CUB classes
    assert classifier / 1e6 == pytest.approx(table, rel=0.01)


@pytest.mark.parametrize('name', list(SPECS) + ['TinyResNet'])
def test_forward_from_reproduces_the_tail(name):
    torch.manual_seed(0)
    model = build(name)
    with torch.no_grad():
        outs = model(torch.randn(2, 3, 64, 64))
        for index in range(-len(outs), len(outs)):
            tail = model.forward_from(outs[index], index)
            expected = outs[index % len(outs) + 1:]
            assert len(tail) == len(expected)
            for got, want in zip(tail, expected):
                torch.testing.assert_close(got, want)


def test_out_indices():
    model = build('VGG16WSOL', out_indices=(0, 3))
    assert model.out_channels == (64, 1024)
    with torch.no_grad():
        outs = model(torch.randn(1, 3, 32, 32))
    assert [o.shape[1:] for o in outs] == [(64, 32, 32), (1024, 4, 4)]
    model = build('ResNet50WSOL', out_indices=(-2, -1))
    assert model.out_channels == (1024, 2048)
    # stages past the last requested one are not run
    model = build('InceptionV3WSOL', out_indices=(1, ))
    with torch.no_grad():
        assert model(torch.randn(1, 3, 64, 64))[0].shape == (1, 80, 16, 16)
    for bad in [(3, 1), (), (0, 0), (5, )]:
        with pytest.raises(ValueError, match='out_indices'):
            build('ResNet50WSOL', out_indices=bad)


def test_resnet50_imagenet_strides_are_torchvision_resnet50():
    torch.manual_seed(1)
    reference = torchvision.models.resnet50().eval()
    model = build('ResNet50WSOL', layer3_stride=2, layer4_stride=2)
    model.load_state_dict(
        {k: v for k, v in reference.state_dict().items()
         if not k.startswith('fc.')})
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        y = reference.maxpool(reference.relu(reference.bn1(
            reference.conv1(x))))
        for layer in ('layer1', 'layer2', 'layer3', 'layer4'):
            y = getattr(reference, layer)(y)
        torch.testing.assert_close(model(x)[-1], y)


def test_inception_dropout_only_in_training():
    model = build('InceptionV3WSOL', out_indices=(3, 4))
    feat = torch.rand(1, 768, 4, 4)
    with torch.no_grad():
        a, b = (model.forward_from(feat, 0)[0] for _ in range(2))
        torch.testing.assert_close(a, b)
        model.train()
        a, b = (model.forward_from(feat, 0)[0] for _ in range(2))
        assert not torch.equal(a, b)
    with pytest.raises(ValueError, match='drop_rate'):
        build('InceptionV3WSOL', drop_rate=1.0)


# ------------------------------------------------------- pretrained weights
def torchvision_state(name):
    """A torchvision-format ImageNet state dict with random weights."""
    torch.manual_seed(2)
    if name == 'ResNet50WSOL':
        return torchvision.models.resnet50().state_dict()
    if name == 'InceptionV3WSOL':
        return torchvision.models.inception_v3(
            init_weights=False, aux_logits=True).state_dict()
    # VGG16: the convolutions, plus a stand-in for the (400 MB) classifier
    features = torchvision.models.vgg.make_layers(
        torchvision.models.vgg.cfgs['D'])
    state = {f'features.{k}': v for k, v in features.state_dict().items()}
    state['classifier.6.weight'] = torch.zeros(1000, 4096)
    return state


# what stays randomly initialised: layers ImageNet weights do not have
NEW_LAYERS = {
    'ResNet50WSOL': set(),
    'VGG16WSOL': {'conv6.weight', 'conv6.bias'},
    'InceptionV3WSOL': {'SPG_A3_1b.0.weight', 'SPG_A3_1b.0.bias',
                        'SPG_A3_2b.0.weight', 'SPG_A3_2b.0.bias'},
}


@pytest.mark.parametrize('name', list(SPECS))
def test_imagenet_weights_load_by_key_name(name, tmp_path):
    state = torchvision_state(name)
    path = tmp_path / 'imagenet.pth'
    torch.save(state, path)
    model = MODELS.build(dict(
        type=name, init_cfg=dict(type='Pretrained', checkpoint=str(path))))
    model.init_weights()
    own = model.state_dict()
    fresh = set(own) - set(state)
    assert fresh == NEW_LAYERS[name]
    for key in own:
        if key in state:
            assert torch.equal(own[key], state[key]), key
    for key in fresh:  # the paper's initialisation, not PyTorch's default
        if key.endswith('bias'):
            assert not own[key].any()


def test_pretrained_from_a_full_model_checkpoint(tmp_path):
    """mmengine-style checkpoint ('state_dict', 'backbone.' prefix,
    'module.' from DDP) through ``prefix``."""
    source = build('VGG16WSOL')
    torch.nn.init.constant_(source.conv6.weight, 0.5)
    state = {f'module.backbone.{k}': v
             for k, v in source.state_dict().items()}
    state['module.head.fc.weight'] = torch.zeros(3, 1024)
    torch.save(dict(state_dict=state, meta=dict(epoch=3)),
               tmp_path / 'ckpt.pth')
    model = MODELS.build(dict(type='VGG16WSOL', init_cfg=dict(
        type='Pretrained', checkpoint=str(tmp_path / 'ckpt.pth'),
        prefix='backbone.')))
    model.init_weights()
    for key, value in source.state_dict().items():
        assert torch.equal(model.state_dict()[key], value)


def test_wrong_checkpoints_are_refused(tmp_path):
    torch.save({'encoder.conv.weight': torch.zeros(3)}, tmp_path / 'a.pth')
    model = build('ResNet50WSOL')
    with pytest.raises(KeyError, match='no key'):
        model.load_pretrained(str(tmp_path / 'a.pth'))
    torch.save({'conv1.weight': torch.zeros(64, 3, 3, 3)},
               tmp_path / 'b.pth')
    with pytest.raises(ValueError, match='shape mismatch'):
        model.load_pretrained(str(tmp_path / 'b.pth'))


def test_random_initialisation():
    torch.manual_seed(3)
    model = build('InceptionV3WSOL')
    model.init_weights()
    bn = model.Mixed_6e.branch_pool.bn
    assert torch.equal(bn.weight, torch.ones_like(bn.weight))
    assert not model.SPG_A3_2b[0].bias.any()
    conv = build('VGG16WSOL')
    conv.init_weights()
    # He (fan_out) initialisation of conv6: std = sqrt(2 / (1024·9))
    std = conv.conv6.weight.std().item()
    assert std == pytest.approx((2 / (1024 * 9))**0.5, rel=0.05)


def test_registered_types():
    for cls in (ResNet50WSOL, VGG16WSOL, InceptionV3WSOL, TinyResNet):
        assert MODELS.get(cls.__name__) is cls


@pytest.mark.parametrize('config,name', [
    ('resnet50_cam.py', 'ResNet50WSOL'),
    ('vgg16_cam.py', 'VGG16WSOL'),
    ('inceptionv3_cam.py', 'InceptionV3WSOL'),
])
def test_base_configs_name_torchvision_weights(config, name, monkeypatch):
    """The ``torchvision://`` names of the model configs resolve to
    torchvision's download URLs and load (the download is faked)."""
    import os.path as osp

    import mmengine.runner.checkpoint as mmengine_checkpoint
    from mmengine.config import Config

    urls, state = [], torchvision_state(name)

    def fake_download(url, map_location=None, **kwargs):
        urls.append(url)
        return dict(state)

    monkeypatch.setattr(mmengine_checkpoint, 'load_from_http', fake_download)
    root = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
    cfg = Config.fromfile(osp.join(root, 'configs', '_base_', 'models',
                                   config))
    backbone = MODELS.build(cfg.model.backbone)
    backbone.init_weights()
    assert len(urls) == 1
    assert urls[0].startswith('https://download.pytorch.org/models/')
    for key, value in backbone.state_dict().items():
        if key in state:
            assert torch.equal(value, state[key])


@pytest.mark.parametrize('blocks', [[1, 1], [1, 0, 1], [1, 2, 1, 1], 0,
                                    [1, 1.5, 1]])
def test_tiny_resnet_blocks_per_stage_is_checked(blocks):
    """One block count per stage (3 here), each >= 1: a short list would
    otherwise build fewer stages than ``out_channels`` reports."""
    with pytest.raises(ValueError, match='blocks_per_stage'):
        TinyResNet(blocks_per_stage=blocks)
    assert len(TinyResNet(blocks_per_stage=[1, 2, 1]).stages[1]) == 2
