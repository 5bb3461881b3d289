"""Global-average-pooling classification head (Zhou et al., CVPR 2016)."""
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule

from fcam_mm.registry import MODELS


@MODELS.register_module()
class GAPClsHead(BaseModule):
    """``logits = W · GAP(A) + b`` on the top feature map ``A`` (B, C, h, w).

    Because pooling and the linear layer commute, the class-``c`` score is the
    spatial mean of the class activation map ``M_c = Σ_k W[c, k] A_k``
    (plus ``b_c``) — the identity CAM (Zhou et al. 2016) relies on.

    Args:
        num_classes (int): number of classes K.
        in_channels (int): channels C of the top feature map.
        loss_weight (float): weight of the cross-entropy loss.
        in_index (int): which backbone output is the top map (default last).
    """

    def __init__(self,
                 num_classes: int,
                 in_channels: int,
                 loss_weight: float = 1.0,
                 in_index: int = -1,
                 init_cfg=dict(type='Normal', layer='Linear', std=0.01)):
        super().__init__(init_cfg=init_cfg)
        if num_classes <= 0:
            raise ValueError(f'num_classes must be positive, got '
                             f'{num_classes}')
        self.num_classes = num_classes
        self.in_channels = in_channels
        self.loss_weight = loss_weight
        self.in_index = in_index
        self.fc = nn.Linear(in_channels, num_classes)

    def top_map(self, feats):
        return feats[self.in_index]

    def forward(self, feats) -> torch.Tensor:
        return self.fc(self.top_map(feats).mean(dim=(2, 3)))

    def class_weights(self, targets: torch.Tensor) -> torch.Tensor:
        """Rows ``W[c]`` of the linear layer for each target: (B, C)."""
        return self.fc.weight[targets]

    def loss(self, feats, gt_labels: torch.Tensor) -> dict:
        logits = self(feats)
        return dict(
            loss_cls=self.loss_weight * F.cross_entropy(logits, gt_labels))
