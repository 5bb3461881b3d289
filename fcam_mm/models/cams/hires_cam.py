"""HiResCAM (Draelos & Carin, arXiv 2020)."""
import torch
import torch.nn.functional as F

from fcam_mm.registry import MODELS
from .base_cam import BaseGradientCAM


@MODELS.register_module()
class HiResCAM(BaseGradientCAM):
    """HiResCAM (Draelos & Carin, "Use HiResCAM instead of Grad-CAM for
    faithful explanations of convolutional neural networks", arXiv
    2011.08891, 2020)::

        M^c(x, y) = ReLU(Σ_k ∂y^c / ∂A_k(x, y) · A_k(x, y))

    Grad-CAM without the spatial averaging of the gradient (element-wise
    product instead); with a GAP + linear head on the target layer it equals
    ReLU(CAM)/(h·w). The ReLU keeps the positive evidence, as the other
    gradient methods here (the paper also inspects the signed map).
    """

    def combine(self, activations, grads) -> torch.Tensor:
        return F.relu((grads * activations).sum(dim=1))
