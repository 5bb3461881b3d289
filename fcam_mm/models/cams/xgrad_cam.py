"""XGrad-CAM (Fu et al., BMVC 2020)."""
import torch
import torch.nn.functional as F

from fcam_mm.registry import MODELS
from .base_cam import BaseGradientCAM, weighted_sum


@MODELS.register_module()
class XGradCAM(BaseGradientCAM):
    """XGrad-CAM (Fu et al., "Axiom-based Grad-CAM: Towards Accurate
    Visualization and Explanation of CNNs", BMVC 2020, eq. 9)::

        w_k^c = Σ_xy (A_k(x, y) / Σ_ab A_k(a, b)) · ∂y^c / ∂A_k(x, y)
        M^c   = ReLU(Σ_k w_k^c · A_k)

    A channel whose activations sum to zero gets weight 0 (its 0/0 is
    otherwise undefined).
    """

    def combine(self, activations, grads) -> torch.Tensor:
        total = activations.sum(dim=(2, 3), keepdim=True)
        nonzero = total != 0
        share = torch.where(
            nonzero, activations / torch.where(nonzero, total, 1.0), 0.0)
        weights = (share * grads).sum(dim=(2, 3))
        return F.relu(weighted_sum(activations, weights))
