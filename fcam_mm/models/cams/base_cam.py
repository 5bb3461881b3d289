"""What every CAM method shares: run the classifier once on a batch, pick
the target class per image, and turn the target layer's activations into
one map per image — on the model's device, without a loop over images."""
from typing import Optional, Tuple

import torch
import torch.nn as nn


class BaseCAM(nn.Module):
    """Base class of CAM methods.

    A method differs from its siblings only in :meth:`combine`, how it weights
    the target layer's activations ``A`` (B, C, h, w). The maps are returned
    as they are (no ReLU, no normalisation): the evaluation protocol
    min-max normalises each map itself.

    Args:
        target_layer (int): index into the backbone's outputs of the layer
            whose activations are weighted (default: the last, top map).
    """

    def __init__(self, target_layer: int = -1):
        super().__init__()
        self.target_layer = target_layer

    def forward(self, localizer, inputs: torch.Tensor,
                targets: Optional[torch.Tensor] = None
                ) -> Tuple[torch.Tensor, torch.Tensor]:
        """Return ``(maps (B, h, w), logits (B, K))`` for ``inputs``.

        ``targets`` (B,) are the classes whose maps are built; ``None`` uses
        the predicted classes.
        """
        feats = localizer.extract_feat(inputs)
        logits = localizer.head(feats)
        if targets is None:
            targets = logits.argmax(dim=1)
        activations = feats[self.target_layer]
        return self.combine(activations, targets, localizer), logits

    def combine(self, activations: torch.Tensor, targets: torch.Tensor,
                localizer) -> torch.Tensor:
        raise NotImplementedError
