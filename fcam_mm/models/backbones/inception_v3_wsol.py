"""InceptionV3 in its WSOL form (the CAM/SPG variant of Choe et al., CVPR
2020, used by F-CAM, WACV 2022)."""
from typing import Optional, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import ConvModule, build_conv_layer

from fcam_mm.registry import MODELS
from .base_wsol_backbone import BaseWSOLBackbone


def basic_conv(in_channels, out_channels, kernel_size, stride=1, padding=0,
               norm_cfg=dict(type='BN', eps=0.001)):
    """conv (no bias) + BN (eps 1e-3) + ReLU; a ``ConvModule`` names its
    layers ``conv`` and ``bn``, as torchvision's ``BasicConv2d`` does."""
    return ConvModule(in_channels, out_channels, kernel_size, stride=stride,
                      padding=padding, bias=False, norm_cfg=norm_cfg)


class InceptionA(nn.Module):
    """1×1 | 1×1→5×5 | 1×1→3×3→3×3 | avg-pool→1×1 (torchvision names)."""

    def __init__(self, in_channels, pool_features, norm_cfg):
        super().__init__()
        self.branch1x1 = basic_conv(in_channels, 64, 1, norm_cfg=norm_cfg)
        self.branch5x5_1 = basic_conv(in_channels, 48, 1, norm_cfg=norm_cfg)
        self.branch5x5_2 = basic_conv(48, 64, 5, padding=2, norm_cfg=norm_cfg)
        self.branch3x3dbl_1 = basic_conv(in_channels, 64, 1,
                                         norm_cfg=norm_cfg)
        self.branch3x3dbl_2 = basic_conv(64, 96, 3, padding=1,
                                         norm_cfg=norm_cfg)
        self.branch3x3dbl_3 = basic_conv(96, 96, 3, padding=1,
                                         norm_cfg=norm_cfg)
        self.branch_pool = basic_conv(in_channels, pool_features, 1,
                                      norm_cfg=norm_cfg)

    def forward(self, x):
        return torch.cat([
            self.branch1x1(x),
            self.branch5x5_2(self.branch5x5_1(x)),
            self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x))),
            self.branch_pool(F.avg_pool2d(x, 3, stride=1, padding=1)),
        ], dim=1)


class InceptionB(nn.Module):
    """Grid reduction of torchvision's ``Mixed_6a`` with a configurable
    stride; the WSOL form uses stride 1, padding 1 (no reduction)."""

    def __init__(self, in_channels, stride, padding, norm_cfg):
        super().__init__()
        self.stride, self.padding = stride, padding
        self.branch3x3 = basic_conv(in_channels, 384, 3, stride=stride,
                                    padding=padding, norm_cfg=norm_cfg)
        self.branch3x3dbl_1 = basic_conv(in_channels, 64, 1,
                                         norm_cfg=norm_cfg)
        self.branch3x3dbl_2 = basic_conv(64, 96, 3, padding=1,
                                         norm_cfg=norm_cfg)
        self.branch3x3dbl_3 = basic_conv(96, 96, 3, stride=stride,
                                         padding=padding, norm_cfg=norm_cfg)

    def forward(self, x):
        return torch.cat([
            self.branch3x3(x),
            self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x))),
            F.max_pool2d(x, 3, stride=self.stride, padding=self.padding),
        ], dim=1)


class InceptionC(nn.Module):
    """Factorised 7×7 block (torchvision's ``Mixed_6b``–``Mixed_6e``)."""

    def __init__(self, in_channels, channels_7x7, norm_cfg):
        super().__init__()
        c7 = channels_7x7
        self.branch1x1 = basic_conv(in_channels, 192, 1, norm_cfg=norm_cfg)
        self.branch7x7_1 = basic_conv(in_channels, c7, 1, norm_cfg=norm_cfg)
        self.branch7x7_2 = basic_conv(c7, c7, (1, 7), padding=(0, 3),
                                      norm_cfg=norm_cfg)
        self.branch7x7_3 = basic_conv(c7, 192, (7, 1), padding=(3, 0),
                                      norm_cfg=norm_cfg)
        self.branch7x7dbl_1 = basic_conv(in_channels, c7, 1,
                                         norm_cfg=norm_cfg)
        self.branch7x7dbl_2 = basic_conv(c7, c7, (7, 1), padding=(3, 0),
                                         norm_cfg=norm_cfg)
        self.branch7x7dbl_3 = basic_conv(c7, c7, (1, 7), padding=(0, 3),
                                         norm_cfg=norm_cfg)
        self.branch7x7dbl_4 = basic_conv(c7, c7, (7, 1), padding=(3, 0),
                                         norm_cfg=norm_cfg)
        self.branch7x7dbl_5 = basic_conv(c7, 192, (1, 7), padding=(0, 3),
                                         norm_cfg=norm_cfg)
        self.branch_pool = basic_conv(in_channels, 192, 1, norm_cfg=norm_cfg)

    def forward(self, x):
        b7 = self.branch7x7_3(self.branch7x7_2(self.branch7x7_1(x)))
        d7 = x
        for i in range(1, 6):
            d7 = getattr(self, f'branch7x7dbl_{i}')(d7)
        return torch.cat([
            self.branch1x1(x), b7, d7,
            self.branch_pool(F.avg_pool2d(x, 3, stride=1, padding=1)),
        ], dim=1)


@MODELS.register_module()
class InceptionV3WSOL(BaseWSOLBackbone):
    """InceptionV3 up to ``Mixed_6e`` in the WSOL form of Choe et al. 2020
    (their CAM/SPG InceptionV3 with ``large_feature_map``), plus their two
    3×3 convolutions ``SPG_A3_1b`` (768 → 1024) and ``SPG_A3_2b``
    (1024 → 1024), each followed by ReLU: a 224×224 image gives a 28×28 top
    map of 1024 channels (Table F.4).

    Differences from torchvision's ImageNet InceptionV3: ``Conv2d_1a_3x3``
    has padding 1; both stem max-pools have padding 1 and ``ceil_mode``;
    ``Mixed_6a`` has stride 1 and padding 1 (no reduction); ``Mixed_7*``,
    ``AuxLogits`` and ``fc`` are absent. Dropout (p = ``drop_rate``, training
    only) precedes ``SPG_A3_1b``, ``SPG_A3_2b`` and the head, as in their
    model (whose last 1×1 conv + GAP is our GAP head).

    Stages and their outputs for a 224×224 input (Table F.2's Inception
    skips):

    ====  ===============================================  ==============
    idx   modules                                           output
    ====  ===============================================  ==============
    0     Conv2d_1a_3x3, Conv2d_2a_3x3, Conv2d_2b_3x3       64 @ 110×110
    1     max-pool, Conv2d_3b_1x1                           80 @ 56×56
    2     Conv2d_4a_3x3, max-pool, Mixed_5b/5c/5d           288 @ 28×28
    3     Mixed_6a (stride 1) … Mixed_6e                    768 @ 28×28
    4     SPG_A3_1b, SPG_A3_2b (3×3 conv + ReLU each)       1024 @ 28×28
    ====  ===============================================  ==============

    Args:
        out_indices (Sequence[int]): stages returned (default: all five).
        drop_rate (float): dropout probability of stage 4 (training only).
        norm_cfg (dict): normalisation config (mmcv.cnn), BN with
            eps 1e-3 as torchvision.
        conv_cfg (dict, optional): config of the SPG_A3 convolutions.
        init_cfg (dict | list[dict], optional): see
            :class:`BaseWSOLBackbone`; ``dict(type='Pretrained',
            checkpoint='torchvision://inception_v3_google')`` for ImageNet
            weights (key mapping in :meth:`convert_pretrained`).
    """

    num_stages = 5
    stage_channels = (64, 80, 288, 768, 1024)
    #: Choe et al. initialise their InceptionV3 with Xavier ('xavier').
    default_init_cfg = [
        dict(type='Xavier', layer='Conv2d', distribution='uniform',
             bias=0.0),
        dict(type='Constant', layer='_BatchNorm', val=1.0, bias=0.0),
    ]

    def __init__(self,
                 out_indices: Optional[Sequence[int]] = None,
                 drop_rate: float = 0.5,
                 norm_cfg: dict = dict(type='BN', eps=0.001),
                 conv_cfg: Optional[dict] = None,
                 init_cfg=None):
        super().__init__(out_indices=out_indices, init_cfg=init_cfg)
        if not 0 <= drop_rate < 1:
            raise ValueError(f'drop_rate must be in [0, 1), got {drop_rate}')
        self.drop_rate = drop_rate
        self.Conv2d_1a_3x3 = basic_conv(3, 32, 3, stride=2, padding=1,
                                        norm_cfg=norm_cfg)
        self.Conv2d_2a_3x3 = basic_conv(32, 32, 3, norm_cfg=norm_cfg)
        self.Conv2d_2b_3x3 = basic_conv(32, 64, 3, padding=1,
                                        norm_cfg=norm_cfg)
        self.Conv2d_3b_1x1 = basic_conv(64, 80, 1, norm_cfg=norm_cfg)
        self.Conv2d_4a_3x3 = basic_conv(80, 192, 3, norm_cfg=norm_cfg)
        self.Mixed_5b = InceptionA(192, 32, norm_cfg)
        self.Mixed_5c = InceptionA(256, 64, norm_cfg)
        self.Mixed_5d = InceptionA(288, 64, norm_cfg)
        self.Mixed_6a = InceptionB(288, stride=1, padding=1,
                                   norm_cfg=norm_cfg)
        self.Mixed_6b = InceptionC(768, 128, norm_cfg)
        self.Mixed_6c = InceptionC(768, 160, norm_cfg)
        self.Mixed_6d = InceptionC(768, 160, norm_cfg)
        self.Mixed_6e = InceptionC(768, 192, norm_cfg)
        self.SPG_A3_1b = nn.Sequential(
            build_conv_layer(conv_cfg, 768, 1024, 3, padding=1),
            nn.ReLU(inplace=True))
        self.SPG_A3_2b = nn.Sequential(
            build_conv_layer(conv_cfg, 1024, 1024, 3, padding=1),
            nn.ReLU(inplace=True))

    @staticmethod
    def _pool(x):
        return F.max_pool2d(x, 3, stride=2, padding=1, ceil_mode=True)

    def _dropout(self, x):
        return F.dropout(x, self.drop_rate, self.training)

    def forward_stage(self, index: int, x: torch.Tensor) -> torch.Tensor:
        if index == 0:
            x = self.Conv2d_2a_3x3(self.Conv2d_1a_3x3(x))
            return self.Conv2d_2b_3x3(x)
        if index == 1:
            return self.Conv2d_3b_1x1(self._pool(x))
        if index == 2:
            x = self._pool(self.Conv2d_4a_3x3(x))
            return self.Mixed_5d(self.Mixed_5c(self.Mixed_5b(x)))
        if index == 3:
            for name in ('Mixed_6a', 'Mixed_6b', 'Mixed_6c', 'Mixed_6d',
                         'Mixed_6e'):
                x = getattr(self, name)(x)
            return x
        x = self.SPG_A3_1b(self._dropout(x))
        return self._dropout(self.SPG_A3_2b(self._dropout(x)))

    def convert_pretrained(self, state_dict):
        """Key mapping from torchvision's ``inception_v3_google`` checkpoint.

        - ``Conv2d_1a_3x3`` … ``Conv2d_4a_3x3``, ``Mixed_5b`` … ``Mixed_6e``
          (``*.conv.weight``, ``*.bn.{weight,bias,running_mean,running_var}``)
          keep their names: the WSOL changes (paddings, strides) leave every
          weight's shape as it is.
        - ``Mixed_7a/7b/7c.*`` (not in the WSOL form), ``AuxLogits.*`` and
          ``fc.*`` (ImageNet heads) are dropped.
        - ``SPG_A3_1b.0.*`` and ``SPG_A3_2b.0.*`` have no ImageNet
          counterpart and keep their Xavier initialisation (as in Choe et
          al.); the GAP head replaces their ``SPG_A4`` 1×1 conv.
        - A checkpoint of Choe et al.'s own model (``SPG_A3_*`` trained,
          ``SPG_A4.*`` its classifier) loads the same way; ``SPG_A4`` is
          dropped (load it into the head separately).
        """
        dropped = ('Mixed_7', 'AuxLogits.', 'fc.', 'SPG_A4.')
        return {k: v for k, v in state_dict.items()
                if not k.startswith(dropped)}
