"""F-CAM's absolute size constraint (Belharbi et al., WACV 2022, eq. 3)
solved with the extended log-barrier of Kervadec et al. (2019)."""
import math

import torch
import torch.nn as nn

from fcam_mm.registry import MODELS
from ..utils.precision import float32_without_autocast
from .utils import check_loss_weight


def log_barrier_extension(z: torch.Tensor, t: float) -> torch.Tensor:
    """Extended log-barrier ``ψ_t`` for the constraint ``z <= 0``
    (Kervadec et al., "Constrained deep networks: Lagrangian optimization
    via log-barrier extensions", 2019, eq. 6)::

        ψ_t(z) = −(1/t) · log(−z)                    if z <= −1/t²
        ψ_t(z) = t · z − (1/t) · log(1/t²) + 1/t     otherwise

    The linear branch continues the barrier (same value and slope ``t`` at
    ``z = −1/t²``), so the loss is finite — and keeps pushing — even where
    the constraint is violated. Larger ``t`` approaches the hard constraint.

    Args:
        z (Tensor): constraint values; any shape.
        t (float): barrier parameter, > 0.

    Returns:
        Tensor: ``ψ_t(z)`` element-wise (no NaN: the unused branch is
        evaluated on a clamped input, so gradients stay finite).
    """
    if not t > 0:
        raise ValueError(f't must be > 0, got {t!r}')
    edge = 1.0 / t**2
    inside = z <= -edge
    # log's argument is −z where that branch is taken, the edge elsewhere
    # (a clamp would zero the gradient at z = −1/t² exactly).
    barrier = -torch.log(torch.where(inside, -z, torch.full_like(z, edge))) / t
    linear = t * z - math.log(edge) / t + 1.0 / t
    return torch.where(inside, barrier, linear)


@MODELS.register_module()
class AbsoluteSizeConstraintLoss(nn.Module):
    """Absolute size constraint (ASC, Kervadec et al. 2019) on both maps:
    the constraints ``Σ_p S_p^c >= 0`` of eq. 3, written ``−size_c <= 0``
    and penalised with :func:`log_barrier_extension`::

        size_{b,c} = Σ_{p∈Ω} S_{b,p}^c                 (probabilities)
        loss = λ_asc · (1/C) Σ_c mean_b ψ_t(−size_{b,c})

    (``1/C = ½`` for the background/foreground pair.) Since
    ``∂ψ_t(−s)/∂s = −1/(t·s) < 0``, minimising the loss grows both regions;
    the partial cross-entropy and the CRF loss keep that growth on the
    object's boundaries (paper §3).

    ``t`` is a plain float attribute: :class:`LogBarrierHook` updates it
    (F-CAM: from 1, ×1.01 per epoch, at most 10) through :meth:`set_t`.

    Args:
        loss_weight (float): λ_asc (0.1 in the authors' CUB recipe); finite,
            >= 0.
        t (float): initial barrier parameter, > 0.

    Shape:
        - probs: (B, C, H, W) softmax probabilities of the decoder.
        - output: scalar.
    """

    def __init__(self, loss_weight: float = 0.1, t: float = 1.0):
        super().__init__()
        self.loss_weight = check_loss_weight('loss_weight (λ_asc)',
                                             loss_weight)
        self.t = 1.0
        self.set_t(t)

    def set_t(self, t: float) -> None:
        """Set the log-barrier parameter ``t`` (> 0)."""
        if isinstance(t, bool) or not isinstance(t, (int, float)) \
                or not t > 0 or math.isinf(t):
            raise ValueError(f't must be a finite number > 0, got {t!r}')
        self.t = float(t)

    @float32_without_autocast
    def forward(self, probs: torch.Tensor) -> torch.Tensor:
        if probs.dim() != 4:
            raise ValueError('expected probabilities (B, C, H, W), got shape '
                             f'{tuple(probs.shape)}')
        sizes = probs.flatten(2).sum(dim=2)  # (B, C)
        penalty = log_barrier_extension(-sizes, self.t)
        return self.loss_weight * penalty.mean(dim=0).mean()

    def extra_repr(self) -> str:
        return f'loss_weight={self.loss_weight}, t={self.t}'
