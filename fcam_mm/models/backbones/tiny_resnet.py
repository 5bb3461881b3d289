"""A small residual encoder that trains in minutes on a CPU."""
from typing import Optional, Sequence

import torch
import torch.nn as nn
from mmcv.cnn import ConvModule
from mmengine.model import BaseModule

from fcam_mm.registry import MODELS
from .base_wsol_backbone import BaseWSOLBackbone


class BasicBlock(BaseModule):
    """Two 3×3 conv-BN layers with an identity (or 1×1 projection) shortcut,
    as in He et al. 2016."""

    def __init__(self, in_channels, out_channels, stride=1, norm_cfg=None):
        super().__init__()
        self.conv1 = ConvModule(
            in_channels, out_channels, 3, stride, 1, norm_cfg=norm_cfg)
        self.conv2 = ConvModule(
            out_channels, out_channels, 3, 1, 1, norm_cfg=norm_cfg,
            act_cfg=None)
        self.shortcut = None
        if stride != 1 or in_channels != out_channels:
            self.shortcut = ConvModule(
                in_channels, out_channels, 1, stride, norm_cfg=norm_cfg,
                act_cfg=None)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x):
        identity = x if self.shortcut is None else self.shortcut(x)
        return self.relu(self.conv2(self.conv1(x)) + identity)


@MODELS.register_module()
class TinyResNet(BaseWSOLBackbone):
    """A 4-stage residual encoder shaped like the WSOL ResNet50: output stride
    8 at the top (28×28 maps for a 224×224 input), every stage's output
    available as a skip for the F-CAM decoder.

    Stages (default widths, input 224): stem 3×3/2 → 16@112, stage1 /2 →
    32@56, stage2 /2 → 64@28, stage3 /1 → 128@28 (the top map; like
    ResNet50's layer3/layer4, it keeps the resolution).

    Args:
        in_channels (int): image channels.
        stem_channels (int): width of the stem.
        stage_channels (Sequence[int]): width of each residual stage.
        stage_strides (Sequence[int]): stride of each stage's first block.
        blocks_per_stage (Sequence[int] | int): residual blocks per stage.
        out_indices (Sequence[int]): which outputs to return (strictly
            increasing); index 0 is the stem, i is stage i. Default: all of
            them, top map last.
        norm_cfg (dict): normalisation layer config (mmcv.cnn).
        init_cfg (dict | list[dict], optional): see
            :class:`BaseWSOLBackbone`.
    """

    def __init__(self,
                 in_channels: int = 3,
                 stem_channels: int = 16,
                 stage_channels: Sequence[int] = (32, 64, 128),
                 stage_strides: Sequence[int] = (2, 2, 1),
                 blocks_per_stage=1,
                 out_indices: Optional[Sequence[int]] = None,
                 norm_cfg: dict = dict(type='BN'),
                 init_cfg=None):
        if len(stage_channels) != len(stage_strides):
            raise ValueError('stage_channels and stage_strides must have the '
                             f'same length, got {len(stage_channels)} and '
                             f'{len(stage_strides)}')
        if isinstance(blocks_per_stage, int):
            blocks_per_stage = [blocks_per_stage] * len(stage_channels)
        blocks_per_stage = list(blocks_per_stage)
        if (len(blocks_per_stage) != len(stage_channels)
                or not all(isinstance(b, int) and b >= 1
                           for b in blocks_per_stage)):
            raise ValueError(
                f'blocks_per_stage must be an int >= 1 or one such int per '
                f'stage ({len(stage_channels)} stages), got '
                f'{blocks_per_stage}')
        self.num_stages = len(stage_channels) + 1
        self.stage_channels = (stem_channels, ) + tuple(stage_channels)
        super().__init__(out_indices=out_indices, init_cfg=init_cfg)
        self.stem = ConvModule(
            in_channels, stem_channels, 3, 2, 1, norm_cfg=norm_cfg)
        self.stages = nn.ModuleList()
        channels = stem_channels
        for width, stride, blocks in zip(stage_channels, stage_strides,
                                         blocks_per_stage):
            layers = [BasicBlock(channels, width, stride, norm_cfg)]
            layers += [
                BasicBlock(width, width, 1, norm_cfg)
                for _ in range(blocks - 1)
            ]
            self.stages.append(nn.Sequential(*layers))
            channels = width

    def forward_stage(self, index: int, x: torch.Tensor) -> torch.Tensor:
        return self.stem(x) if index == 0 else self.stages[index - 1](x)
