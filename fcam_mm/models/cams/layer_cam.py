"""LayerCAM (Jiang et al., IEEE TIP 2021)."""
import torch
import torch.nn.functional as F

from fcam_mm.registry import MODELS
from .base_cam import BaseGradientCAM


@MODELS.register_module()
class LayerCAM(BaseGradientCAM):
    """Pixel-wise weights: ``M^c = ReLU(Σ_k ReLU(∂y^c/∂A_k(x,y)) A_k(x,y))``
    (Jiang et al. 2021, eqs. 4–5)."""

    def combine(self, activations, grads) -> torch.Tensor:
        return F.relu((F.relu(grads) * activations).sum(dim=1))
