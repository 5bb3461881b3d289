"""Grad-CAM++ (Chattopadhyay et al., WACV 2018)."""
import torch
import torch.nn.functional as F

from fcam_mm.registry import MODELS
from .base_cam import BaseGradientCAM, weighted_sum


def gradcampp_weights(activations: torch.Tensor, grads: torch.Tensor,
                      grads_squared: torch.Tensor,
                      grads_cubed: torch.Tensor) -> torch.Tensor:
    """Channel weights ``w`` (B, C) of Grad-CAM++ (eq. 19 of
    Chattopadhyay et al. 2018)::

        α_k(x, y) = g²(x, y) / (2 g²(x, y) + Σ_ab A_k(a, b) · g³(x, y))
        w_k       = Σ_xy α_k(x, y) · ReLU(g(x, y))

    with ``α = 0`` where the denominator vanishes (``g = 0``). The second
    and third derivatives of the paper are the powers ``g²``, ``g³`` of the
    first (its exponential-score identity), applied to the raw class score.
    The Σ of the denominator runs over the activations only, multiplied by
    the pixel's own ``g³`` — as the paper writes it (implementations differ
    on where the Σ goes). Smooth Grad-CAM++ passes sample averages for
    ``g``, ``g²`` and ``g³``.
    """
    sum_activations = activations.sum(dim=(2, 3), keepdim=True)
    denominator = 2 * grads_squared + sum_activations * grads_cubed
    nonzero = denominator != 0
    alpha = torch.where(
        nonzero, grads_squared / torch.where(nonzero, denominator, 1.0), 0.0)
    return (alpha * F.relu(grads)).sum(dim=(2, 3))


@MODELS.register_module()
class GradCAMPlusPlus(BaseGradientCAM):
    """Grad-CAM++ (Chattopadhyay et al., "Grad-CAM++: Generalized
    Gradient-based Visual Explanations for Deep Convolutional Networks",
    WACV 2018, eqs. 9 and 19)::

        α_k(x, y) = g² / (2 g² + Σ_ab A_k(a, b) · g³),   α = 0 where g = 0
        w_k^c     = Σ_xy α_k(x, y) · ReLU(g(x, y))
        M^c       = ReLU(Σ_k w_k^c · A_k)

    with ``g = ∂y^c/∂A`` on the raw class score ``y^c`` (DESIGN.md §6; the
    sum in the denominator is placed as in the paper — see
    :func:`gradcampp_weights`).

    Computed as ``α·ReLU(g) = ReLU(g) / (2 + Σ_ab A_k(a, b) · g)``: the
    ``g²`` of the numerator cancels the one factored out of the denominator
    ``g² (2 + Σ A · g)``; where ``g ≤ 0`` the term is 0 (``ReLU``, which also
    covers ``α = 0`` at ``g = 0``) and a vanishing ``2 + Σ A · g`` gives 0, as
    a vanishing denominator does in the paper. Same numbers as
    :func:`gradcampp_weights` with ``g, g², g³`` (tested), without the
    powers (and without their underflow in float32).
    """

    def combine(self, activations, grads) -> torch.Tensor:
        total = activations.sum(dim=(2, 3), keepdim=True)
        denominator = torch.addcmul(torch.full_like(total, 2.0), total, grads)
        valid = (grads > 0) & (denominator != 0)
        ratio = grads.div(denominator.masked_fill_(~valid, 1.0))
        weights = ratio.masked_fill_(~valid, 0.0).sum(dim=(2, 3))
        return F.relu(weighted_sum(activations, weights))
