"""F-CAM's U-Net decoder (Belharbi et al., WACV 2022, §3 and Table F.2)."""
import copy
from typing import Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import ConvModule, build_upsample_layer
from mmengine.model import BaseModule

from fcam_mm.registry import MODELS

#: Upsampler types that ``upsample_cfg`` may name. ``carafe`` needs mmcv's
#: compiled ops (``mmcv.ops``), which mmcv-lite does not ship.
UPSAMPLE_TYPES = ('nearest', 'bilinear', 'deconv', 'pixel_shuffle', 'carafe')
_ALWAYS_AVAILABLE = ('nearest', 'bilinear', 'deconv', 'pixel_shuffle')


def _require_carafe() -> None:
    """Import ``mmcv.ops`` (which registers ``carafe``) or explain why the
    ``carafe`` upsampler cannot be used here."""
    try:
        import mmcv.ops  # noqa: F401
    except ImportError as err:  # ModuleNotFoundError: No module 'mmcv._ext'
        raise ImportError(
            'upsample_cfg type "carafe" needs mmcv\'s compiled ops '
            f'(mmcv.ops), which cannot be imported here ({err}); mmcv-lite '
            'has none. Use one of the upsamplers that need no compiled op: '
            f'{", ".join(repr(t) for t in _ALWAYS_AVAILABLE)}, e.g. '
            "upsample_cfg=dict(type='nearest', scale_factor=2).") from err


def build_decoder_upsampler(cfg: dict, channels: int) -> nn.Module:
    """Build one ``×scale_factor`` upsampler that keeps ``channels``.

    ``cfg['type']`` is one of :data:`UPSAMPLE_TYPES`; the remaining keys go
    to the layer, with these defaults (``s = cfg.get('scale_factor', 2)``):

    - ``nearest`` / ``bilinear``: ``nn.Upsample(scale_factor=s)``
      (``align_corners=False`` for bilinear); no parameters.
    - ``deconv``: ``ConvTranspose2d(channels, channels, kernel_size=2s,
      stride=s, padding=s // 2)``; exactly ``×s`` for even ``s``.
    - ``pixel_shuffle``: a 3×3 conv to ``channels·s²`` then
      ``F.pixel_shuffle`` (``upsample_kernel=3``).
    - ``carafe``: ``CARAFEPack(channels, s)`` (content-aware reassembly,
      Wang et al. 2019); only where ``mmcv.ops`` imports.

    All are built with :func:`mmcv.cnn.build_upsample_layer`.
    """
    if not isinstance(cfg, dict) or 'type' not in cfg:
        raise TypeError(f'upsample_cfg must be a dict with a "type", got '
                        f'{cfg!r}')
    cfg = copy.deepcopy(dict(cfg))
    layer_type = cfg['type']
    if layer_type not in UPSAMPLE_TYPES:
        raise ValueError(f'unknown upsample_cfg type {layer_type!r}; choose '
                         f'one of {", ".join(map(repr, UPSAMPLE_TYPES))}')
    scale = cfg.pop('scale_factor', 2)
    if layer_type in ('nearest', 'bilinear'):
        cfg['scale_factor'] = scale
        if layer_type == 'bilinear':
            cfg.setdefault('align_corners', False)
        return build_upsample_layer(cfg)
    if layer_type == 'deconv':
        if not isinstance(scale, int) or scale < 1:
            raise ValueError(f'deconv needs an integer scale_factor >= 1, '
                             f'got {scale!r}')
        cfg.setdefault('kernel_size', 2 * scale)
        cfg.setdefault('stride', scale)
        cfg.setdefault('padding', scale // 2)
        return build_upsample_layer(
            cfg, in_channels=channels, out_channels=channels)
    if layer_type == 'pixel_shuffle':
        cfg.setdefault('upsample_kernel', 3)
        return build_upsample_layer(
            cfg, in_channels=channels, out_channels=channels,
            scale_factor=scale)
    _require_carafe()  # carafe
    return build_upsample_layer(cfg, channels=channels, scale_factor=scale)


class FCAMDecoderBlock(nn.Module):
    """Upsample, resize to the skip, concatenate, two 3×3 conv-BN-ReLU.

    ``y = conv₂(conv₁([resize(up(x), size(skip)) ; skip]))``. Without a skip
    the upsampled map is resized to ``out_size`` when given.

    Args:
        in_channels (int): channels of ``x``.
        skip_channels (int): channels of the skip (0: no skip).
        out_channels (int): channels of the output.
        upsample_cfg (dict): see :func:`build_decoder_upsampler`.
        conv_cfg, norm_cfg, act_cfg (dict): for :class:`mmcv.cnn.ConvModule`.
    """

    def __init__(self, in_channels: int, skip_channels: int,
                 out_channels: int, upsample_cfg: dict,
                 conv_cfg: Optional[dict], norm_cfg: Optional[dict],
                 act_cfg: Optional[dict]):
        super().__init__()
        self.skip_channels = skip_channels
        self.upsample = build_decoder_upsampler(upsample_cfg, in_channels)
        self.resize_mode = ('nearest' if upsample_cfg['type'] == 'nearest'
                            else 'bilinear')
        conv_kwargs = dict(
            kernel_size=3, padding=1, conv_cfg=conv_cfg, norm_cfg=norm_cfg,
            act_cfg=act_cfg)
        self.conv1 = ConvModule(in_channels + skip_channels, out_channels,
                                **conv_kwargs)
        self.conv2 = ConvModule(out_channels, out_channels, **conv_kwargs)

    def _resize(self, x: torch.Tensor, size) -> torch.Tensor:
        if tuple(x.shape[-2:]) == tuple(size):
            return x
        if self.resize_mode == 'nearest':
            return F.interpolate(x, size=tuple(size), mode='nearest')
        return F.interpolate(
            x, size=tuple(size), mode='bilinear', align_corners=False)

    def forward(self,
                x: torch.Tensor,
                skip: Optional[torch.Tensor] = None,
                out_size: Optional[Sequence[int]] = None) -> torch.Tensor:
        x = self.upsample(x)
        if skip is not None:
            x = torch.cat([self._resize(x, skip.shape[-2:]), skip], dim=1)
        elif out_size is not None:
            x = self._resize(x, out_size)
        return self.conv2(self.conv1(x))


@MODELS.register_module()
class FCAMUNetDecoder(BaseModule):
    """The parametric upscaler ``f`` of F-CAM: a U-Net decoder over the
    classifier's feature maps that outputs background/foreground logits at
    the input's full resolution.

    With the encoder's maps ``E_1 … E_L`` (skips first, top map ``E_L``
    last, as the backbones return them) and ``N = len(decoder_channels)``
    blocks (``N >= L - 1``)::

        x_0 = center(E_L)                      # identity, or two 3×3 convs
        x_i = block_i(x_{i-1}, E_{L-i})        # i = 1 … L-1 (skips)
        x_i = block_i(x_{i-1})                 # i = L … N   (no skip)
        logits = head(resize(x_N, out_size))   # 3×3 conv → 2 maps

    ``block_i`` upsamples ``×2`` (``upsample_cfg``), resizes to the skip if
    the sizes differ (the WSOL encoders keep 28×28 over their last stages),
    concatenates the skip and applies two 3×3 conv + BN + ReLU; the last
    block's output is resized to ``out_size`` when it differs (odd input
    sizes), so the 3×3 head always runs at full resolution. The softmax of
    the logits gives ``S = (S¹ background, S² foreground)`` (paper §3); the
    F-CAM map is ``S²``. The low-resolution CAM is *not* an input: it only
    makes the pseudo-labels.

    Channels of Table F.2 (skips → decoder channels; paper's decoder size):

    ======================  ==========================  ==============
    encoder                 ``in_channels``              ``decoder_channels``
    ======================  ==========================  ==============
    ResNet50 (≈9M)          64, 256, 512, 1024, 2048    256, 128, 64, 32, 16
    InceptionV3 (≈5.7M)     64, 80, 288, 768, 1024      256, 128, 64, 32, 16
    VGG16 (≈23.1M)          128, 256, 1024               256, 128, 64
                            (+ ``center_block=True``)
    TinyResNet (≈0.2M)      16, 32, 64, 128             64, 32, 16, 16
    ======================  ==========================  ==============

    Args:
        in_channels (Sequence[int]): channels of the backbone's outputs in
            the order it returns them (skips first, top map last).
        decoder_channels (Sequence[int]): output channels of each decoder
            block, from the top down. Needs ``len(decoder_channels) >=
            len(in_channels) - 1`` so that every skip is used.
        out_channels (int): number of logit maps (2: S¹, S²).
        center_block (bool): two 3×3 conv-BN-ReLU on the top map before the
            first block, keeping its width (the authors use it for VGG16).
        upsample_cfg (dict): the ×2 upsampler of every block: ``type`` in
            ``nearest`` (default, the authors'), ``bilinear``, ``deconv``,
            ``pixel_shuffle``, or ``carafe`` where ``mmcv.ops`` imports.
        conv_cfg, norm_cfg, act_cfg (dict): of the 3×3 convs
            (:class:`mmcv.cnn.ConvModule`); BN + ReLU by default, convs
            without bias before BN.
        head_kernel_size (int): kernel of the final conv (3).
        init_cfg (dict | list[dict]): mmengine initialisation. The
            ConvModules initialise themselves (Kaiming for the convs, BN
            weight 1 / bias 0); the default ``init_cfg`` sets the head to
            Xavier-uniform with zero bias.

    Shape:
        - ``feats``: tuple of ``(B, in_channels[i], h_i, w_i)``.
        - ``out_size``: ``(H, W)`` of the input image; ``None`` keeps the
          last block's resolution.
        - output: ``(B, out_channels, H, W)`` logits.
    """

    def __init__(self,
                 in_channels: Sequence[int] = (64, 256, 512, 1024, 2048),
                 decoder_channels: Sequence[int] = (256, 128, 64, 32, 16),
                 out_channels: int = 2,
                 center_block: bool = False,
                 upsample_cfg: dict = dict(type='nearest', scale_factor=2),
                 conv_cfg: Optional[dict] = None,
                 norm_cfg: Optional[dict] = dict(type='BN'),
                 act_cfg: Optional[dict] = dict(type='ReLU'),
                 head_kernel_size: int = 3,
                 init_cfg: Union[dict, list, None] = dict(
                     type='Xavier',
                     distribution='uniform',
                     bias=0,
                     override=dict(name='head'))):
        super().__init__(init_cfg=init_cfg)
        in_channels = tuple(int(c) for c in in_channels)
        decoder_channels = tuple(int(c) for c in decoder_channels)
        if not in_channels or not decoder_channels:
            raise ValueError('in_channels and decoder_channels must not be '
                             'empty')
        if any(c <= 0 for c in in_channels + decoder_channels):
            raise ValueError('channel counts must be positive, got '
                             f'in_channels={in_channels}, '
                             f'decoder_channels={decoder_channels}')
        if len(decoder_channels) < len(in_channels) - 1:
            raise ValueError(
                f'{len(in_channels) - 1} skip connections need at least as '
                f'many decoder blocks, got decoder_channels='
                f'{decoder_channels}')
        if out_channels <= 0:
            raise ValueError(f'out_channels must be positive, got '
                             f'{out_channels}')
        if head_kernel_size % 2 != 1:
            raise ValueError('head_kernel_size must be odd, got '
                             f'{head_kernel_size}')
        self.in_channels = in_channels
        self.decoder_channels = decoder_channels
        self.out_channels = out_channels
        self.upsample_cfg = copy.deepcopy(upsample_cfg)

        top = in_channels[-1]
        skip_channels = tuple(reversed(in_channels[:-1]))
        skip_channels += (0, ) * (len(decoder_channels) - len(skip_channels))
        conv_kwargs = dict(
            conv_cfg=conv_cfg, norm_cfg=norm_cfg, act_cfg=act_cfg)
        if center_block:
            self.center = nn.Sequential(
                ConvModule(top, top, 3, padding=1, **conv_kwargs),
                ConvModule(top, top, 3, padding=1, **conv_kwargs))
        else:
            self.center = nn.Identity()
        block_inputs = (top, ) + decoder_channels[:-1]
        self.blocks = nn.ModuleList([
            FCAMDecoderBlock(cin, cskip, cout, upsample_cfg, **conv_kwargs)
            for cin, cskip, cout in zip(block_inputs, skip_channels,
                                        decoder_channels)
        ])
        self.head = nn.Conv2d(
            decoder_channels[-1],
            out_channels,
            head_kernel_size,
            padding=head_kernel_size // 2)

    def forward(self,
                feats: Sequence[torch.Tensor],
                out_size: Optional[Sequence[int]] = None) -> torch.Tensor:
        """Logits ``(B, out_channels, H, W)`` with ``(H, W) = out_size``."""
        feats = tuple(feats)
        if len(feats) != len(self.in_channels):
            raise ValueError(
                f'expected {len(self.in_channels)} feature maps (in_channels='
                f'{self.in_channels}), got {len(feats)}')
        for i, (feat, channels) in enumerate(zip(feats, self.in_channels)):
            if feat.dim() != 4 or feat.shape[1] != channels:
                raise ValueError(f'feature map {i} should be (B, {channels}, '
                                 f'h, w), got {tuple(feat.shape)}')
        if out_size is not None:
            out_size = tuple(int(s) for s in out_size)
        skips = feats[-2::-1]
        x = self.center(feats[-1])
        last = len(self.blocks) - 1
        for i, block in enumerate(self.blocks):
            skip = skips[i] if i < len(skips) else None
            x = block(x, skip, out_size if i == last else None)
        if out_size is not None and tuple(x.shape[-2:]) != out_size:
            # the last block had a skip (more skips than blocks - 1 is not
            # allowed, so only when len(blocks) == len(skips)); resized as
            # the blocks resize (nearest for a 'nearest' upsampler).
            x = self.blocks[-1]._resize(x, out_size)
        return self.head(x)


def count_parameters(module: nn.Module) -> int:
    """Number of parameters (trainable or not) of ``module``."""
    return sum(p.numel() for p in module.parameters())


#: Decoder configurations of Table F.2 with the paper's sizes (#PDEC of
#: Table F.4, millions of parameters).
PAPER_DECODERS = (
    dict(name='ResNet50', paper_millions=9.0,
         in_channels=(64, 256, 512, 1024, 2048),
         decoder_channels=(256, 128, 64, 32, 16), center_block=False),
    dict(name='InceptionV3', paper_millions=5.7,
         in_channels=(64, 80, 288, 768, 1024),
         decoder_channels=(256, 128, 64, 32, 16), center_block=False),
    dict(name='VGG16', paper_millions=23.1,
         in_channels=(128, 256, 1024),
         decoder_channels=(256, 128, 64), center_block=True),
)

__all__ = [
    'FCAMUNetDecoder', 'FCAMDecoderBlock', 'build_decoder_upsampler',
    'count_parameters', 'UPSAMPLE_TYPES', 'PAPER_DECODERS'
]
