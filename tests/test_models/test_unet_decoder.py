"""F-CAM's U-Net decoder: output size, upsamplers, Table F.2 sizes."""
import pytest
import torch

from fcam_mm.models.backbones import TinyResNet
from fcam_mm.models.decoders import (PAPER_DECODERS, FCAMUNetDecoder,
                                     build_decoder_upsampler,
                                     count_parameters)
from fcam_mm.registry import MODELS

TINY = dict(in_channels=(16, 32, 64, 128), decoder_channels=(64, 32, 16, 16))

# Exact sizes of the three decoders of Table F.2 (3×3 convs without bias
# before BN, BN affine, 3×3 head with bias). Paper (#PDEC, Table F.4):
# ≈9M (ResNet50), ≈5.7M (InceptionV3), ≈23.1M (VGG16).
EXPECTED_PARAMS = {
    'ResNet50': 9_013_218,
    'InceptionV3': 5_704_674,
    'VGG16': 23_120_770,
}
# Strides of each encoder's outputs relative to the input (WSOL variants:
# ResNet50 and Inception keep the last stages at 28×28 for a 224 input).
STRIDES = {
    'ResNet50': (2, 4, 8, 8, 8),
    'InceptionV3': (2, 4, 8, 8, 8),
    'VGG16': (2, 4, 8),
}


def _random_feats(in_channels, strides, size, batch=1):
    gen = torch.Generator().manual_seed(0)
    return tuple(
        torch.randn(batch, c, -(-size[0] // s), -(-size[1] // s),
                    generator=gen) for c, s in zip(in_channels, strides))


@pytest.mark.parametrize('size', [(64, 64), (65, 47), (33, 17)])
def test_tiny_resnet_feats_to_input_size(size):
    backbone = TinyResNet()
    decoder = FCAMUNetDecoder(**TINY)
    x = torch.randn(2, 3, *size)
    logits = decoder(backbone(x), x.shape[-2:])
    assert logits.shape == (2, 2, *size)
    assert torch.isfinite(logits).all()


@pytest.mark.parametrize('cfg', PAPER_DECODERS, ids=lambda c: c['name'])
def test_paper_decoders_shape_and_size(cfg):
    decoder = FCAMUNetDecoder(
        in_channels=cfg['in_channels'],
        decoder_channels=cfg['decoder_channels'],
        center_block=cfg['center_block']).eval()
    params = count_parameters(decoder)
    print(f"{cfg['name']}: {params / 1e6:.3f}M decoder parameters "
          f"(paper ≈{cfg['paper_millions']}M)")
    assert params == EXPECTED_PARAMS[cfg['name']]
    # within 1 % of the paper's rounded figure
    assert abs(params / 1e6 - cfg['paper_millions']) \
        <= 0.01 * cfg['paper_millions']
    for size in [(48, 48), (41, 35)]:
        feats = _random_feats(cfg['in_channels'], STRIDES[cfg['name']], size)
        with torch.no_grad():
            logits = decoder(feats, size)
        assert logits.shape == (1, 2, *size)


@pytest.mark.parametrize('upsample_cfg', [
    dict(type='nearest', scale_factor=2),
    dict(type='bilinear', scale_factor=2),
    dict(type='deconv'),
    dict(type='pixel_shuffle', scale_factor=2),
])
def test_upsample_types(upsample_cfg):
    decoder = FCAMUNetDecoder(**TINY, upsample_cfg=upsample_cfg)
    backbone = TinyResNet()
    x = torch.randn(2, 3, 37, 29)
    logits = decoder(backbone(x), x.shape[-2:])
    assert logits.shape == (2, 2, 37, 29)
    logits.sum().backward()
    assert decoder.head.weight.grad is not None
    up = build_decoder_upsampler(upsample_cfg, channels=8)
    assert up(torch.randn(1, 8, 5, 7)).shape == (1, 8, 10, 14)


def test_learned_upsamplers_add_parameters():
    plain = count_parameters(FCAMUNetDecoder(**TINY))
    for kind in ('deconv', 'pixel_shuffle'):
        assert count_parameters(
            FCAMUNetDecoder(**TINY, upsample_cfg=dict(type=kind))) > plain
    assert count_parameters(
        FCAMUNetDecoder(**TINY, upsample_cfg=dict(type='bilinear'))) == plain


def test_carafe_needs_mmcv_ops():
    try:
        import mmcv.ops  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError) as info:
            FCAMUNetDecoder(**TINY, upsample_cfg=dict(type='carafe'))
        message = str(info.value)
        for alternative in ('nearest', 'bilinear', 'deconv', 'pixel_shuffle'):
            assert alternative in message
        assert 'mmcv.ops' in message
    else:  # full mmcv with compiled ops: carafe just works
        decoder = FCAMUNetDecoder(**TINY, upsample_cfg=dict(type='carafe'))
        assert decoder is not None


def test_unknown_upsampler_and_bad_arguments():
    with pytest.raises(ValueError, match='nearest'):
        FCAMUNetDecoder(**TINY, upsample_cfg=dict(type='bicubic'))
    with pytest.raises(ValueError, match='skip'):
        FCAMUNetDecoder(in_channels=(16, 32, 64, 128), decoder_channels=(8, ))
    decoder = FCAMUNetDecoder(**TINY)
    feats = TinyResNet()(torch.randn(1, 3, 32, 32))
    with pytest.raises(ValueError, match='feature maps'):
        decoder(feats[1:], (32, 32))
    with pytest.raises(ValueError, match='feature map 0'):
        decoder((feats[1], ) + feats[1:], (32, 32))


def test_out_size_none_keeps_last_block_resolution():
    decoder = FCAMUNetDecoder(**TINY)
    feats = TinyResNet()(torch.randn(1, 3, 32, 32))
    assert decoder(feats).shape == (1, 2, 32, 32)  # 4 blocks: /2 → /1


def test_registry_build_and_init_weights():
    decoder = MODELS.build(dict(type='FCAMUNetDecoder', **TINY))
    assert isinstance(decoder, FCAMUNetDecoder)
    torch.nn.init.constant_(decoder.head.bias, 5.0)
    decoder.init_weights()
    assert torch.all(decoder.head.bias == 0)
    assert torch.all(decoder.blocks[0].conv1.bn.weight == 1)


def test_center_block_keeps_width():
    decoder = FCAMUNetDecoder(
        in_channels=(8, 16), decoder_channels=(8, 4), center_block=True)
    assert len(decoder.center) == 2
    feats = (torch.randn(1, 8, 8, 8), torch.randn(1, 16, 4, 4))
    assert decoder(feats, (16, 16)).shape == (1, 2, 16, 16)
