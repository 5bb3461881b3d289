"""A loss term defined outside fcam_mm (docs/adding_components.md)."""
import torch
import torch.nn as nn

from fcam_mm.models.losses.utils import check_loss_weight
from fcam_mm.registry import MODELS


@MODELS.register_module()
class PixelEntropyLoss(nn.Module):
    """Mean Shannon entropy of the decoder's per-pixel distribution
    (entropy minimisation, Grandvalet & Bengio, NIPS 2004)::

        L = λ_ent · (1 / (B·H·W)) Σ_{b,p} −Σ_c S_{b,p}^c · log S_{b,p}^c

    with ``S = softmax(logits)`` over the classes (background, foreground).
    It pushes every pixel towards a confident 0 or 1. Computed with
    ``log_softmax``, so it stays finite where ``S`` reaches 0.

    Args:
        loss_weight (float): λ_ent, finite and >= 0.
    """

    def __init__(self, loss_weight: float = 0.1):
        super().__init__()
        self.loss_weight = check_loss_weight('loss_weight (λ_ent)',
                                             loss_weight)

    def forward(self, logits: torch.Tensor) -> torch.Tensor:
        """``logits``: (B, C, H, W) decoder output; returns a scalar."""
        log_probs = logits.log_softmax(dim=1)
        entropy = -(log_probs.exp() * log_probs).sum(dim=1)
        return self.loss_weight * entropy.mean()
