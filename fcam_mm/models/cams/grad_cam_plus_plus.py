"""Grad-CAM++ (Chattopadhyay et al., WACV 2018)."""
import torch
import torch.nn.functional as F

from fcam_mm.registry import MODELS
from .base_cam import BaseGradientCAM


def gradcampp_weights(activations: torch.Tensor, grads: torch.Tensor,
                      grads_squared: torch.Tensor,
                      grads_cubed: torch.Tensor) -> torch.Tensor:
    """Channel weights of Grad-CAM++ (eq. 19 of Chattopadhyay et al. 2018,
    with the exponential-score identities that turn the 2nd/3rd derivatives
    into powers of the 1st):

    ``α_k(x,y) = g² / (2 g² + Σ_ab A_k(a,b) · g³)``, ``α = 0`` where the
    denominator vanishes (``g = 0``), and ``w_k = Σ_xy α_k(x,y) ReLU(g)``.

    The sum in the denominator runs over the activations only, as in the
    paper (implementations differ on where the Σ goes). Smooth Grad-CAM++
    passes sample averages for the three derivative terms.
    """
    sum_activations = activations.sum(dim=(2, 3), keepdim=True)
    denominator = 2 * grads_squared + sum_activations * grads_cubed
    alpha = torch.where(denominator != 0,
                        grads_squared / torch.where(denominator != 0,
                                                    denominator, 1.0), 0.0)
    return (alpha * F.relu(grads)).sum(dim=(2, 3), keepdim=True)


@MODELS.register_module()
class GradCAMPlusPlus(BaseGradientCAM):
    """``M^c = ReLU(Σ_k w_k^c A_k)`` with the Grad-CAM++ weights of
    :func:`gradcampp_weights`, on the raw class score."""

    def combine(self, activations, grads) -> torch.Tensor:
        weights = gradcampp_weights(activations, grads, grads**2, grads**3)
        return F.relu((weights * activations).sum(dim=1))
