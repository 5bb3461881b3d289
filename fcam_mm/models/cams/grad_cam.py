"""Grad-CAM (Selvaraju et al., ICCV 2017)."""
import torch
import torch.nn.functional as F

from fcam_mm.registry import MODELS
from .base_cam import BaseGradientCAM


@MODELS.register_module()
class GradCAM(BaseGradientCAM):
    """``w_k^c = (1/Z) Σ_xy ∂y^c/∂A_k(x,y)``,
    ``M^c = ReLU(Σ_k w_k^c A_k)`` (Selvaraju et al. 2017, eqs. 1–2)."""

    def combine(self, activations, grads) -> torch.Tensor:
        weights = grads.mean(dim=(2, 3), keepdim=True)
        return F.relu((weights * activations).sum(dim=1))
