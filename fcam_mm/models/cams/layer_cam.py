"""LayerCAM (Jiang et al., IEEE TIP 2021)."""
import torch
import torch.nn.functional as F

from fcam_mm.registry import MODELS
from .base_cam import BaseGradientCAM


@MODELS.register_module()
class LayerCAM(BaseGradientCAM):
    """LayerCAM (Jiang et al., "LayerCAM: Exploring Hierarchical Class
    Activation Maps for Localization", IEEE TIP 2021, eqs. 4–5)::

        w_k^c(x, y) = ReLU(∂y^c / ∂A_k(x, y))
        M^c(x, y)   = ReLU(Σ_k w_k^c(x, y) · A_k(x, y))

    Pixel-wise weights, so it also gives usable maps on shallow layers
    (``target_layer=-2``, ``-3``, …); the paper fuses several layers' maps,
    which a config can do by evaluating one layer per run.
    """

    def combine(self, activations, grads) -> torch.Tensor:
        return F.relu((F.relu(grads) * activations).sum(dim=1))
