"""VGG16 in its WSOL form (Choe et al., CVPR 2020; F-CAM, WACV 2022)."""
from typing import Optional, Sequence

import torch
import torch.nn as nn
from mmcv.cnn import build_conv_layer

from fcam_mm.registry import MODELS
from .base_wsol_backbone import BaseWSOLBackbone

#: torchvision's VGG16 ``features`` (configuration D): channels, or 'M' for
#: a 2×2 max-pool. Indices in ``features`` follow from it (conv, ReLU pairs).
VGG16_LAYERS = (64, 64, 'M', 128, 128, 'M', 256, 256, 256, 'M', 512, 512,
                512, 'M', 512, 512, 512, 'M')


@MODELS.register_module()
class VGG16WSOL(BaseWSOLBackbone):
    """VGG16 without its last two max-pools (``pool4`` and ``pool5``) and
    with an extra ``conv6`` (3×3, 512 → 1024) + ReLU, the "28×28" CAM form
    of Choe et al. 2020 used by F-CAM: output stride 8, so a 224×224 image
    gives a 28×28 top map of 1024 channels (Table F.4).

    Stages and their outputs for a 224×224 input:

    ====  ==============================================  ==============
    idx   modules                                          output
    ====  ==============================================  ==============
    0     conv1_1, conv1_2 (``features[0:4]``)              64 @ 224×224
    1     pool1, conv2_x (``features[4:9]``)                128 @ 112×112
    2     pool2, conv3_x (``features[9:16]``)               256 @ 56×56
    3     pool3, conv4_x, conv5_x (``features[16:30]``),    1024 @ 28×28
          conv6, ReLU
    ====  ==============================================  ==============

    The default ``out_indices=(1, 2, 3)`` are Table F.2's VGG16 skips
    (128 / 256 / 1024); add stage 0 for a 224×224 skip.

    ``features`` keeps torchvision's indices: ``pool4`` (index 23) is an
    ``nn.Identity`` and ``pool5`` (index 30) is dropped, so
    ``init_cfg=dict(type='Pretrained', checkpoint='torchvision://vgg16')``
    loads all 13 ImageNet convolutions by key name (``features.N.*``);
    ``classifier.*`` (the fully connected ImageNet head) is dropped and
    ``conv6`` keeps its He initialisation.

    Args:
        out_indices (Sequence[int]): stages returned (default ``(1, 2, 3)``).
        conv6_channels (int): width of ``conv6``, the top map.
        conv_cfg (dict, optional): convolution config (mmcv.cnn).
        init_cfg (dict | list[dict], optional): see
            :class:`BaseWSOLBackbone`.
    """

    num_stages = 4
    #: ``features`` slices of stages 0–2 and of stage 3 before conv6.
    stage_slices = ((0, 4), (4, 9), (9, 16), (16, 30))
    #: Choe et al. initialise VGG's layers with He's scheme ('he').
    default_init_cfg = [
        dict(type='Kaiming', layer='Conv2d', mode='fan_out',
             nonlinearity='relu', bias=0.0),
    ]

    def __init__(self,
                 out_indices: Optional[Sequence[int]] = (1, 2, 3),
                 conv6_channels: int = 1024,
                 conv_cfg: Optional[dict] = None,
                 init_cfg=None):
        self.stage_channels = (64, 128, 256, conv6_channels)
        super().__init__(out_indices=out_indices, init_cfg=init_cfg)
        layers, in_channels, pools = [], 3, 0
        for v in VGG16_LAYERS:
            if v == 'M':
                pools += 1
                if pools == 4:
                    # pool4 removed; an Identity keeps the indices of
                    # conv5_x equal to torchvision's (24, 26, 28).
                    layers.append(nn.Identity())
                elif pools < 4:
                    layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
                # pool5 (index 30) is dropped.
            else:
                layers.append(build_conv_layer(conv_cfg, in_channels, v, 3,
                                               padding=1))
                layers.append(nn.ReLU(inplace=True))
                in_channels = v
        self.features = nn.Sequential(*layers)
        self.conv6 = build_conv_layer(conv_cfg, 512, conv6_channels, 3,
                                      padding=1)
        self.relu6 = nn.ReLU(inplace=True)

    def forward_stage(self, index: int, x: torch.Tensor) -> torch.Tensor:
        start, end = self.stage_slices[index]
        for i in range(start, end):
            x = self.features[i](x)
        if index == 3:
            x = self.relu6(self.conv6(x))
        return x

    def convert_pretrained(self, state_dict):
        """torchvision's ``features.N.*`` keys are this module's (pool4 is an
        Identity at index 23, so no index shifts); ``classifier.*`` (the
        ImageNet fully connected layers) is dropped."""
        return {k: v for k, v in state_dict.items()
                if not k.startswith('classifier.')}
