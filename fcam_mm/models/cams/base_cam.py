"""What every CAM method shares: run the classifier once on a batch, pick
the target class per image, and turn the target layer's activations into
one map per image — on the model's device, without a loop over images."""
from typing import Optional, Sequence, Tuple

import torch
import torch.nn as nn


def weighted_sum(activations: torch.Tensor,
                 weights: torch.Tensor) -> torch.Tensor:
    """``Σ_k w_k · A_k``: (B, C, h, w) activations, (B, C) weights → (B, h, w),
    as one batched matrix product (no (B, C, h, w) temporary)."""
    return torch.einsum('bchw,bc->bhw', activations, weights)


class BaseCAM(nn.Module):
    """Base class of CAM methods.

    Calling a method::

        maps, logits = cam(localizer, inputs, targets=None, feats=None)

    ``localizer`` is the model (``WSOLLocalizer`` or a subclass): it
    provides ``extract_feat(inputs)`` (the backbone's tuple of outputs),
    ``head(feats)`` (class scores) and, for gradient methods on an
    intermediate layer, ``backbone.forward_from(feat, index)``. ``targets``
    (B,) are the classes whose maps are built (the GT class in training and
    GT-known evaluation); ``None`` uses the predicted classes. ``feats``:
    the backbone's outputs for ``inputs`` when the caller already has them
    (F-CAM's decoder reads the same features), so the backbone runs once.

    Returns ``maps`` (B, h, w) at the target layer's resolution, as the
    method's formula gives them (the evaluation protocol resizes and min-max
    normalises each map itself), and ``logits`` (B, K), on the inputs'
    device. One forward of the batch (plus one backward for gradient
    methods), never a loop over images.

    Args:
        target_layer (int): index into the backbone's outputs of the layer
            whose activations are weighted. The same index means the same
            thing for every backbone: ``-1`` (default) is the top map (28×28
            for a 224×224 input with the WSOL backbones), which the GAP head
            reads; ``-2`` the output before it, and so on.
    """

    def __init__(self, target_layer: int = -1):
        super().__init__()
        if not isinstance(target_layer, int):
            raise TypeError(f'target_layer must be an int (an index into the '
                            f'backbone outputs), got {target_layer!r}')
        self.target_layer = target_layer

    def extra_repr(self) -> str:
        return f'target_layer={self.target_layer}'

    # -- helpers shared by the methods --------------------------------------
    @staticmethod
    def pick_targets(logits: torch.Tensor,
                     targets: Optional[torch.Tensor]) -> torch.Tensor:
        """The given targets, or the predicted classes."""
        if targets is None:
            return logits.argmax(dim=1)
        targets = torch.as_tensor(targets, device=logits.device).long()
        if targets.shape != logits.shape[:1]:
            raise ValueError(f'targets must have shape ({logits.shape[0]},), '
                             f'got {tuple(targets.shape)}')
        return targets

    def layer_index(self, feats: Sequence[torch.Tensor]) -> int:
        """``target_layer`` as a non-negative index into ``feats``."""
        num = len(feats)
        if not -num <= self.target_layer < num:
            raise IndexError(f'{type(self).__name__}: target_layer='
                             f'{self.target_layer} but the backbone returns '
                             f'{num} outputs')
        return self.target_layer % num

    @staticmethod
    def head_index(localizer, feats: Sequence[torch.Tensor]) -> int:
        """Index of the output the head reads (its ``in_index``)."""
        index, num = getattr(localizer.head, 'in_index', -1), len(feats)
        if not -num <= index < num:
            raise IndexError(f'{type(localizer.head).__name__}: in_index='
                             f'{index} but the backbone returns {num} '
                             'outputs')
        return index % num

    # -- the generic path (non-gradient methods) ----------------------------
    def forward(self, localizer, inputs: torch.Tensor,
                targets: Optional[torch.Tensor] = None,
                feats: Optional[Tuple[torch.Tensor, ...]] = None
                ) -> Tuple[torch.Tensor, torch.Tensor]:
        if feats is None:
            feats = localizer.extract_feat(inputs)
        logits = localizer.head(feats)
        targets = self.pick_targets(logits, targets)
        activations = feats[self.layer_index(feats)]
        return self.combine(activations, targets, localizer), logits

    def combine(self, activations: torch.Tensor, targets: torch.Tensor,
                localizer) -> torch.Tensor:
        """Maps (B, h, w) from the target layer's activations (B, C, h, w)."""
        raise NotImplementedError


class BaseGradientCAM(BaseCAM):
    """Gradient-based CAM methods: :meth:`combine` receives the target
    layer's activations ``A`` and ``g = ∂y^c/∂A``, where ``y^c`` is the raw
    (pre-softmax) score of each image's target class.

    How ``g`` is computed for a whole batch with one forward and one
    backward:

    1. the backbone runs once without building a graph (or its outputs are
       given as ``feats``);
    2. the target output is detached into a leaf that requires grad; the
       layers after it are re-applied to it — nothing when it is the head's
       input (the default), otherwise the rest of the backbone through
       ``backbone.forward_from`` — and then the head;
    3. one ``torch.autograd.grad`` of ``Σ_i y_i^{c_i}`` with respect to the
       leaf gives every image's gradient: image ``i``'s score depends only
       on image ``i``'s activations (the head pools each image on its own,
       and BatchNorm uses its running statistics in eval mode), so
       ``∂ Σ_i y_i / ∂A = (∂y_i/∂A_i)_i`` and maps equal the
       one-image-at-a-time maps.

    Hence it works under ``torch.no_grad()`` (mmengine's test loop) and with
    a frozen classifier (F-CAM's stage 2): ``requires_grad`` of the
    parameters is never changed and no ``.grad`` is written; no hook is
    registered; the graph is freed when the call returns (maps and logits
    are returned detached).

    In training mode (BatchNorm on batch statistics, dropout) maps depend on
    the batch, and re-applying layers after an intermediate target updates
    BatchNorm running statistics once more; compute maps in eval mode (as
    the test loop and F-CAM's frozen classifier do).
    """

    def target_gradients(self, localizer, feats, targets=None):
        """``(A, g, logits, targets)`` for the target layer of ``feats``;
        all four are detached."""
        index = self.layer_index(feats)
        head_index = self.head_index(localizer, feats)
        if index > head_index:
            raise ValueError(
                f'{type(self).__name__}: target_layer={self.target_layer} '
                f'comes after the output the head reads (index {head_index}); '
                'the class score does not depend on it')
        with torch.enable_grad():
            leaf = feats[index].detach().requires_grad_(True)
            if index == head_index:
                new_feats = list(feats)
                new_feats[index] = leaf
            else:
                forward_from = getattr(
                    getattr(localizer, 'backbone', None), 'forward_from',
                    None)
                if forward_from is None:
                    raise NotImplementedError(
                        f'{type(self).__name__}: target_layer='
                        f'{self.target_layer} is not the head\'s input (in_'
                        f'index={head_index}) and the backbone has no '
                        'forward_from(feat, index) to re-enter the network')
                tail = forward_from(leaf, index)
                new_feats = list(feats[:index]) + [leaf] + list(tail)
            logits = localizer.head(tuple(new_feats))
            targets = self.pick_targets(logits, targets)
            scores = logits.gather(1, targets[:, None]).sum()
            grads, = torch.autograd.grad(scores, leaf)
        return leaf.detach(), grads, logits.detach(), targets

    def forward(self, localizer, inputs, targets=None, feats=None):
        if feats is None:
            with torch.no_grad():
                feats = localizer.extract_feat(inputs)
        activations, grads, logits, _ = self.target_gradients(
            localizer, feats, targets)
        return self.combine(activations, grads), logits

    def combine(self, activations: torch.Tensor,
                grads: torch.Tensor) -> torch.Tensor:
        """Maps (B, h, w) from ``A`` and ``g`` (both B, C, h, w)."""
        raise NotImplementedError
