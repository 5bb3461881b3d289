"""A backbone defined outside fcam_mm (docs/adding_components.md)."""
from typing import Dict, Optional, Sequence

import torch
import torch.nn as nn
from mmcv.cnn import ConvModule

from fcam_mm.models.backbones import BaseWSOLBackbone
from fcam_mm.registry import MODELS


@MODELS.register_module()
class PlainConvNet(BaseWSOLBackbone):
    """A plain (VGG-like) encoder: stage ``i`` is one 3×3 conv-BN-ReLU with
    ``widths[i]`` channels and stride ``strides[i]``. The default strides
    (2, 2, 2, 1) give output stride 8 at the top, like the WSOL backbones:
    16@112, 32@56, 64@28, 96@28 for a 224×224 input.

    Args:
        widths (Sequence[int]): output channels of each stage.
        strides (Sequence[int]): stride of each stage.
        in_channels (int): image channels.
        out_indices (Sequence[int], optional): stages to return, top last.
        norm_cfg (dict): normalisation layer (mmcv.cnn).
        init_cfg (dict | list[dict], optional): see ``BaseWSOLBackbone``.
    """

    def __init__(self,
                 widths: Sequence[int] = (16, 32, 64, 96),
                 strides: Sequence[int] = (2, 2, 2, 1),
                 in_channels: int = 3,
                 out_indices: Optional[Sequence[int]] = None,
                 norm_cfg: dict = dict(type='BN'),
                 init_cfg=None):
        if len(widths) != len(strides):
            raise ValueError(f'PlainConvNet: widths {tuple(widths)} and '
                             f'strides {tuple(strides)} differ in length')
        # BaseWSOLBackbone.__init__ checks out_indices against these.
        self.num_stages = len(widths)
        self.stage_channels = tuple(widths)
        super().__init__(out_indices=out_indices, init_cfg=init_cfg)
        self.stages = nn.ModuleList()
        for width, stride in zip(widths, strides):
            self.stages.append(
                ConvModule(in_channels, width, 3, stride, 1,
                           norm_cfg=norm_cfg))
            in_channels = width

    def forward_stage(self, index: int, x: torch.Tensor) -> torch.Tensor:
        return self.stages[index](x)

    def convert_pretrained(self, state_dict: Dict[str, torch.Tensor]
                           ) -> Dict[str, torch.Tensor]:
        """Keys of the same network saved as one ``nn.Sequential`` called
        ``features`` (conv, BN, ReLU per stage): ``features.{3i}.*`` →
        ``stages.{i}.conv.*``, ``features.{3i+1}.*`` → ``stages.{i}.bn.*``;
        other keys (a classifier) are dropped."""
        converted = {}
        for key, value in state_dict.items():
            parts = key.split('.')
            if parts[0] != 'features' or len(parts) != 3:
                continue
            stage, layer = divmod(int(parts[1]), 3)
            name = {0: 'conv', 1: 'bn'}.get(layer)
            if name is not None:
                converted[f'stages.{stage}.{name}.{parts[2]}'] = value
        return converted
