"""Eigen-CAM (Muhammad & Yeasin, IJCNN 2020)."""
import torch

from fcam_mm.registry import MODELS
from .base_cam import BaseCAM


@MODELS.register_module()
class EigenCAM(BaseCAM):
    """Eigen-CAM (Muhammad & Yeasin, "Eigen-CAM: Class Activation Map using
    Principal Components", IJCNN 2020): the projection of the target
    layer's activations on their first principal direction::

        O = A reshaped to (h·w, C),   O = U Σ Vᵀ
        M(x, y) = (O · v_1)(x, y) = σ_1 · u_1(x, y)

    Class-agnostic (the target class is not used) and gradient-free. As in
    the paper ``O`` is not mean-centred. A singular vector's sign is
    arbitrary; it is chosen so that the map sums to a non-negative value
    (for non-negative activations, e.g. after a ReLU, the map is then
    non-negative everywhere). Computed for the batch at once from the
    smaller of the Gram matrices ``O Oᵀ`` / ``Oᵀ O`` with ``torch.linalg.eigh``
    (in float32 at least).
    """

    def combine(self, activations, targets, localizer) -> torch.Tensor:
        batch, channels, height, width = activations.shape
        dtype = activations.dtype
        work = activations.float() if dtype in (torch.float16,
                                                torch.bfloat16) else \
            activations
        flat = work.flatten(2).transpose(1, 2)  # (B, hw, C)
        if height * width <= channels:
            # O Oᵀ = U Σ² Uᵀ: O v1 = σ1 u1.
            values, vectors = torch.linalg.eigh(flat @ flat.transpose(1, 2))
            proj = vectors[..., -1] * values[..., -1:].clamp_min(0).sqrt()
        else:
            # Oᵀ O = V Σ² Vᵀ: project on v1 directly.
            _, vectors = torch.linalg.eigh(flat.transpose(1, 2) @ flat)
            proj = (flat @ vectors[..., -1:]).squeeze(-1)
        sign = torch.where(proj.sum(dim=1, keepdim=True) < 0, -1.0, 1.0)
        return (proj * sign).view(batch, height, width).to(dtype)
