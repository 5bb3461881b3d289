"""Class Activation Mapping (Zhou et al., CVPR 2016)."""
import torch

from fcam_mm.registry import MODELS
from .base_cam import BaseCAM, weighted_sum


@MODELS.register_module()
class CAM(BaseCAM):
    """CAM (Zhou et al., "Learning Deep Features for Discriminative
    Localization", CVPR 2016, eq. 2)::

        M^c(x, y) = Σ_k w_k^c · A_k(x, y)

    with ``A`` the top feature map (the GAP head's input) and ``w^c`` the
    head's linear weights of class ``c`` (``head.class_weights``). Because
    pooling and the linear layer commute, ``y^c = mean_xy M^c + b^c``.

    No ReLU, and the bias is left out: it shifts the map by a constant that
    the protocol's min-max normalisation removes. No gradient is needed;
    under ``torch.no_grad()`` nothing is recorded, otherwise the map is
    differentiable with respect to the features and the head's weights.

    ``target_layer`` must be the head's input (default ``-1``): the
    classifier's weights only apply there.
    """

    def forward(self, localizer, inputs, targets=None, feats=None):
        if feats is None:
            feats = localizer.extract_feat(inputs)
        if self.layer_index(feats) != self.head_index(localizer, feats):
            raise ValueError(
                f'CAM: target_layer={self.target_layer} is not the layer the '
                f'head reads (in_index={self.head_index(localizer, feats)}); '
                'the classifier weights only weight that layer (use a '
                'gradient method for another layer)')
        return super().forward(localizer, inputs, targets, feats)

    def combine(self, activations, targets, localizer) -> torch.Tensor:
        weights = localizer.head.class_weights(targets)
        return weighted_sum(activations, weights)
