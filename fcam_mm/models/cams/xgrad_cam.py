"""XGrad-CAM (Fu et al., BMVC 2020)."""
import torch
import torch.nn.functional as F

from fcam_mm.registry import MODELS
from .base_cam import BaseGradientCAM


@MODELS.register_module()
class XGradCAM(BaseGradientCAM):
    """``w_k^c = Σ_xy (A_k(x,y) / Σ_ab A_k(a,b)) ∂y^c/∂A_k(x,y)``,
    ``M^c = ReLU(Σ_k w_k^c A_k)`` (Fu et al. 2020, eq. 9); a channel whose
    activations sum to zero gets weight 0."""

    def combine(self, activations, grads) -> torch.Tensor:
        total = activations.sum(dim=(2, 3), keepdim=True)
        share = torch.where(total != 0,
                            activations / torch.where(total != 0, total, 1.),
                            0.)
        weights = (share * grads).sum(dim=(2, 3), keepdim=True)
        return F.relu((weights * activations).sum(dim=1))
