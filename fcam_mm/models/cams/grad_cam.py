"""Grad-CAM (Selvaraju et al., ICCV 2017)."""
import torch
import torch.nn.functional as F

from fcam_mm.registry import MODELS
from .base_cam import BaseGradientCAM, weighted_sum


@MODELS.register_module()
class GradCAM(BaseGradientCAM):
    """Grad-CAM (Selvaraju et al., "Grad-CAM: Visual Explanations from Deep
    Networks via Gradient-based Localization", ICCV 2017, eqs. 1–2)::

        w_k^c = (1 / Z) Σ_xy ∂y^c / ∂A_k(x, y)          (Z = h·w)
        M^c   = ReLU(Σ_k w_k^c · A_k)

    ``y^c`` is the raw (pre-softmax) score of the target class and ``A`` the
    target layer's activations (see :class:`BaseGradientCAM` for how ``g``
    is computed for a batch).
    """

    def combine(self, activations, grads) -> torch.Tensor:
        return F.relu(weighted_sum(activations, grads.mean(dim=(2, 3))))
