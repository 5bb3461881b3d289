"""ResNet50 in its WSOL form (Choe et al., CVPR 2020; F-CAM, WACV 2022)."""
from typing import Optional, Sequence

import torch
import torch.nn as nn
from mmcv.cnn import build_conv_layer, build_norm_layer

from fcam_mm.registry import MODELS
from .base_wsol_backbone import BaseWSOLBackbone


class Bottleneck(nn.Module):
    """ResNet v1.5 bottleneck (stride on the 3×3 conv, as torchvision):
    1×1 → 3×3 → 1×1 (×4 channels) + shortcut, ReLU after the sum.

    Module names (``conv1``, ``bn1``, …, ``downsample.0/1``) are
    torchvision's, so its checkpoints load by key name.
    """

    expansion = 4

    def __init__(self, in_channels: int, planes: int, stride: int = 1,
                 conv_cfg: Optional[dict] = None,
                 norm_cfg: dict = dict(type='BN')):
        super().__init__()
        out_channels = planes * self.expansion
        self.conv1 = build_conv_layer(conv_cfg, in_channels, planes, 1,
                                      bias=False)
        self.bn1 = build_norm_layer(norm_cfg, planes)[1]
        self.conv2 = build_conv_layer(conv_cfg, planes, planes, 3,
                                      stride=stride, padding=1, bias=False)
        self.bn2 = build_norm_layer(norm_cfg, planes)[1]
        self.conv3 = build_conv_layer(conv_cfg, planes, out_channels, 1,
                                      bias=False)
        self.bn3 = build_norm_layer(norm_cfg, out_channels)[1]
        self.relu = nn.ReLU(inplace=True)
        self.downsample = None
        if stride != 1 or in_channels != out_channels:
            self.downsample = nn.Sequential(
                build_conv_layer(conv_cfg, in_channels, out_channels, 1,
                                 stride=stride, bias=False),
                build_norm_layer(norm_cfg, out_channels)[1])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + identity)


@MODELS.register_module()
class ResNet50WSOL(BaseWSOLBackbone):
    """ResNet50 with ``layer3`` and ``layer4`` at stride 1 (Choe et al.'s
    ``large_feature_map``): output stride 8, so a 224×224 image gives a
    28×28 top map of 2048 channels (Table F.4), which the GAP head turns
    into class scores and the CAM methods into maps.

    Stages and their outputs for a 224×224 input (Table F.2's ResNet50
    skips):

    ====  ==========================  ===============
    idx   modules                     output
    ====  ==========================  ===============
    0     conv1, bn1, relu            64 @ 112×112
    1     maxpool, layer1             256 @ 56×56
    2     layer2                      512 @ 28×28
    3     layer3 (stride 1)           1024 @ 28×28
    4     layer4 (stride 1)           2048 @ 28×28
    ====  ==========================  ===============

    Module names are torchvision's, and the strides do not change any
    weight's shape, so ``init_cfg=dict(type='Pretrained',
    checkpoint='torchvision://resnet50')`` loads every ImageNet weight of
    the encoder by key name (only ``fc.*`` is left out: the GAP head is a
    separate module with the dataset's classes).

    Args:
        out_indices (Sequence[int]): stages returned (default: all five).
        layer3_stride (int): stride of ``layer3`` (1: WSOL form; 2:
            ImageNet form, 14×14 top map).
        layer4_stride (int): stride of ``layer4`` (1: WSOL form).
        conv_cfg (dict, optional): convolution config (mmcv.cnn).
        norm_cfg (dict): normalisation config (mmcv.cnn).
        init_cfg (dict | list[dict], optional): see
            :class:`BaseWSOLBackbone`.
    """

    num_stages = 5
    stage_channels = (64, 256, 512, 1024, 2048)
    blocks = (3, 4, 6, 3)

    def __init__(self,
                 out_indices: Optional[Sequence[int]] = None,
                 layer3_stride: int = 1,
                 layer4_stride: int = 1,
                 conv_cfg: Optional[dict] = None,
                 norm_cfg: dict = dict(type='BN'),
                 init_cfg=None):
        super().__init__(out_indices=out_indices, init_cfg=init_cfg)
        self.conv1 = build_conv_layer(conv_cfg, 3, 64, 7, stride=2,
                                      padding=3, bias=False)
        self.bn1 = build_norm_layer(norm_cfg, 64)[1]
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        in_channels = 64
        strides = (1, 2, layer3_stride, layer4_stride)
        for i, (planes, blocks, stride) in enumerate(
                zip((64, 128, 256, 512), self.blocks, strides)):
            layers = []
            for b in range(blocks):
                layers.append(Bottleneck(in_channels, planes,
                                         stride if b == 0 else 1, conv_cfg,
                                         norm_cfg))
                in_channels = planes * Bottleneck.expansion
            self.add_module(f'layer{i + 1}', nn.Sequential(*layers))

    def forward_stage(self, index: int, x: torch.Tensor) -> torch.Tensor:
        if index == 0:
            return self.relu(self.bn1(self.conv1(x)))
        if index == 1:
            return self.layer1(self.maxpool(x))
        return getattr(self, f'layer{index}')(x)

    def convert_pretrained(self, state_dict):
        """torchvision's ResNet50 keys are this module's; its ``fc`` (the
        ImageNet classifier) is dropped."""
        return {k: v for k, v in state_dict.items() if not k.startswith('fc.')}
