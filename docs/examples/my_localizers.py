"""An F-CAM localizer with one more stage-2 loss term, defined outside
fcam_mm (docs/adding_components.md)."""
from typing import Dict, Optional

import torch

from fcam_mm.models.localizers import FCAMLocalizer
from fcam_mm.registry import MODELS


@MODELS.register_module()
class EntropyFCAMLocalizer(FCAMLocalizer):
    """F-CAM whose stage-2 loss gains a term on the decoder's output::

        α·pCE(Ω') + λ·CRF + ASC + entropy_loss(logits)

    Stage 1 is ``FCAMLocalizer``'s. ``FCAMLocalizer.decoder_losses``
    receives the decoder's logits once per step; extending it adds the term
    without a second decoder pass.

    Args:
        entropy_loss (dict, optional): the new term (``PixelEntropyLoss``
            of my_losses.py); ``None`` gives plain F-CAM.
        **kwargs: see ``FCAMLocalizer``.
    """

    def __init__(self,
                 entropy_loss: Optional[dict] = dict(type='PixelEntropyLoss'),
                 **kwargs):
        super().__init__(**kwargs)
        self.entropy_loss = (None if entropy_loss is None else
                             MODELS.build(entropy_loss))

    def decoder_losses(self, logits: torch.Tensor, seeds: torch.Tensor,
                       inputs: torch.Tensor) -> Dict[str, torch.Tensor]:
        losses = super().decoder_losses(logits, seeds, inputs)
        if self.entropy_loss is not None:
            losses['loss_entropy'] = self.entropy_loss(logits)
        return losses
