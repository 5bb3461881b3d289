"""What every CAM method shares: run the classifier once on a batch, pick
the target class per image, and turn the target layer's activations into
one map per image — on the model's device, without a loop over images."""
from typing import Optional, Tuple

import torch
import torch.nn as nn


class BaseCAM(nn.Module):
    """Base class of CAM methods.

    A method differs from its siblings only in :meth:`combine`, how it weights
    the target layer's activations ``A`` (B, C, h, w). Maps are returned as
    computed (the evaluation protocol min-max normalises each map itself).

    Args:
        target_layer (int): index into the backbone's outputs of the layer
            whose activations are weighted (default: the last, top map).
    """

    def __init__(self, target_layer: int = -1):
        super().__init__()
        self.target_layer = target_layer

    @staticmethod
    def pick_targets(logits: torch.Tensor,
                     targets: Optional[torch.Tensor]) -> torch.Tensor:
        return logits.argmax(dim=1) if targets is None else targets

    def forward(self, localizer, inputs: torch.Tensor,
                targets: Optional[torch.Tensor] = None,
                feats: Optional[Tuple[torch.Tensor, ...]] = None
                ) -> Tuple[torch.Tensor, torch.Tensor]:
        """Return ``(maps (B, h, w), logits (B, K))`` for ``inputs``.

        ``targets`` (B,) are the classes whose maps are built; ``None`` uses
        the predicted classes. ``feats``: the backbone's outputs for
        ``inputs`` when the caller already has them (F-CAM's decoder reads
        the same features), so the backbone runs once.
        """
        if feats is None:
            feats = localizer.extract_feat(inputs)
        logits = localizer.head(feats)
        targets = self.pick_targets(logits, targets)
        activations = feats[self.target_layer]
        return self.combine(activations, targets, localizer), logits

    def combine(self, activations: torch.Tensor, targets: torch.Tensor,
                localizer) -> torch.Tensor:
        raise NotImplementedError


class BaseGradientCAM(BaseCAM):
    """Gradient-based CAM methods: ``combine`` also receives
    ``g = ∂y^c/∂A`` where ``y^c`` is the raw (pre-softmax) score of each
    image's target class.

    One forward of the backbone (without building its graph) and one
    backward through the head give ``g`` for the whole batch: the target
    layer's output is detached into a leaf that requires grad and the head
    is re-applied to it, so

    - it works under ``torch.no_grad()`` (mmengine's test loop) and with a
      frozen classifier (F-CAM's stage 2), whose parameters keep
      ``requires_grad`` as they are;
    - no hook is registered and no graph outlives the call;
    - image ``i``'s score depends only on image ``i``'s activations (the
      head pools each image on its own; BatchNorm is in eval mode at test
      time), so ``∂ Σ_i y_i / ∂A = (∂y_i/∂A_i)_i`` and the maps equal the
      one-image-at-a-time maps.

    The target layer must be the head's input (its ``in_index``): only then
    is the rest of the network re-applied exactly.
    """

    def target_gradients(self, localizer, feats, targets):
        """``(A, g, logits)`` for the target layer of ``feats``."""
        in_index = getattr(localizer.head, 'in_index', -1)
        num = len(feats)
        if self.target_layer % num != in_index % num:
            raise NotImplementedError(
                f'{type(self).__name__}: target_layer={self.target_layer} '
                f'must be the layer the head reads (in_index={in_index}) for '
                'a gradient method')
        with torch.enable_grad():
            leaf = feats[self.target_layer].detach().requires_grad_(True)
            feats = list(feats)
            feats[self.target_layer] = leaf
            logits = localizer.head(tuple(feats))
            targets = self.pick_targets(logits, targets)
            scores = logits.gather(1, targets[:, None]).sum()
            grads, = torch.autograd.grad(scores, leaf)
        return leaf.detach(), grads, logits.detach(), targets

    def forward(self, localizer, inputs, targets=None, feats=None):
        if feats is None:
            with torch.no_grad():
                feats = localizer.extract_feat(inputs)
        activations, grads, logits, targets = self.target_gradients(
            localizer, feats, targets)
        return self.combine(activations, grads), logits

    def combine(self, activations: torch.Tensor,
                grads: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError
