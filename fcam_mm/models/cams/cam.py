"""Class Activation Mapping (Zhou et al., CVPR 2016)."""
import torch

from fcam_mm.registry import MODELS
from .base_cam import BaseCAM


@MODELS.register_module()
class CAM(BaseCAM):
    """``M_c(x, y) = Σ_k w_k^c A_k(x, y)`` with ``w^c`` the classifier's
    weights for class ``c`` over the GAP-ed top map (Zhou et al. 2016, eq. 2).

    The bias is left out: it shifts the map by a constant, which min-max
    normalisation removes.
    """

    def combine(self, activations, targets, localizer) -> torch.Tensor:
        weights = localizer.head.class_weights(targets)
        return torch.einsum('bchw,bc->bhw', activations, weights)
