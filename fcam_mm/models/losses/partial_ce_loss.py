"""Partial cross-entropy on F-CAM's sampled pixels (Belharbi et al., WACV
2022, eq. 3, first term of the pixel alignment loss)."""
import torch
import torch.nn as nn
import torch.nn.functional as F

from fcam_mm.registry import MODELS
from ..utils.precision import float32_without_autocast
from .utils import check_loss_weight


@MODELS.register_module()
class PartialCrossEntropyLoss(nn.Module):
    """``α · (1/|Ω'|) Σ_{p∈Ω'} H(Y_p, S_p)`` with
    ``H(Y_p, S_p) = −Σ_c Y_p^c log S_p^c`` and ``S = softmax(logits)``.

    ``Ω'`` are the pixels whose label is not ``ignore_index`` (the seeds of
    :func:`fcam_mm.models.utils.sample_pseudo_labels`), counted over the
    whole batch. The paper writes the sum over ``Ω'``; the authors' code (and
    this loss) takes the mean over the labelled pixels, which only rescales
    α by ``|Ω'|`` (≈ 18 pixels per image with one 3×3 seed per region). With
    no labelled pixel the loss is 0 (not NaN) and still part of the graph.

    Args:
        loss_weight (float): α (paper: searched in {1, 0.1}); finite, >= 0.
        ignore_index (int): label of unlabelled pixels; not a class label
            (``0 … C−1``).

    Shape:
        - logits: (B, C, H, W) raw decoder outputs (C = 2: background,
          foreground).
        - labels: (B, H, W) int64 in ``{0, …, C−1} ∪ {ignore_index}``.
        - output: scalar.
    """

    def __init__(self, loss_weight: float = 1.0, ignore_index: int = 255):
        super().__init__()
        self.loss_weight = check_loss_weight('loss_weight (α)', loss_weight)
        self.ignore_index = int(ignore_index)

    @float32_without_autocast
    def forward(self, logits: torch.Tensor,
                labels: torch.Tensor) -> torch.Tensor:
        if logits.dim() != 4 or labels.dim() != 3 \
                or logits.shape[0] != labels.shape[0] \
                or logits.shape[2:] != labels.shape[1:]:
            raise ValueError('expected logits (B, C, H, W) and labels '
                             f'(B, H, W), got {tuple(logits.shape)} and '
                             f'{tuple(labels.shape)}')
        if 0 <= self.ignore_index < logits.shape[1]:
            raise ValueError(
                f'ignore_index={self.ignore_index} is a class label of the '
                f'{logits.shape[1]} logit maps: unlabelled pixels would be '
                'trained as that class')
        labels = labels.long()
        per_pixel = F.cross_entropy(
            logits, labels, ignore_index=self.ignore_index, reduction='none')
        num_labelled = (labels != self.ignore_index).sum()
        loss = per_pixel.sum() / num_labelled.clamp(min=1)
        return self.loss_weight * loss

    def extra_repr(self) -> str:
        return (f'loss_weight={self.loss_weight}, '
                f'ignore_index={self.ignore_index}')
