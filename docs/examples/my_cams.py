"""A CAM method defined outside fcam_mm (docs/adding_components.md)."""
import torch
import torch.nn.functional as F

from fcam_mm.models.cams import BaseGradientCAM
from fcam_mm.registry import MODELS


@MODELS.register_module()
class ElementWiseGradCAM(BaseGradientCAM):
    """Element-wise Grad-CAM (``GradCAMElementWise`` of the pytorch-grad-cam
    library, J. Gildenblat et al., github.com/jacobgil/pytorch-grad-cam)::

        M^c(x, y) = Σ_k ReLU(∂y^c/∂A_k(x, y) · A_k(x, y))

    Each channel's contribution at a pixel is rectified before the channels
    are summed, so negative evidence in one channel does not cancel positive
    evidence in another; HiResCAM rectifies after the sum,
    ``ReLU(Σ_k g_k · A_k)``, and Grad-CAM averages ``g`` over the map first.
    Where the activations are non-negative (every output of fcam_mm's
    backbones ends with a ReLU), ``ReLU(g · A) = ReLU(g) · A`` and the map is
    LayerCAM's; it differs on layers with negative activations.
    """

    def combine(self, activations: torch.Tensor,
                grads: torch.Tensor) -> torch.Tensor:
        return F.relu(grads * activations).sum(dim=1)
