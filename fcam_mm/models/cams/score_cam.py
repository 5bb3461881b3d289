"""Score-CAM (Wang et al., CVPR Workshops 2020)."""
import torch
import torch.nn.functional as F

from fcam_mm.registry import MODELS
from .base_cam import BaseCAM, weighted_sum


@MODELS.register_module()
class ScoreCAM(BaseCAM):
    """Score-CAM (Wang et al., "Score-CAM: Score-Weighted Visual
    Explanations for Convolutional Neural Networks", CVPRW 2020, eqs. 3–5)::

        H_k   = minmax(Up(A_k))                 (upsampled to the input size)
        w_k^c = softmax(f(x ∘ H_k))_c
        M^c   = ReLU(Σ_k w_k^c · A_k)

    ``Up`` is bilinear; ``minmax`` maps each channel to [0, 1] and a
    constant channel gets ``w = 0`` (its mask carries no information). As in
    the authors' code, the score of the masked input is used as it is
    (the paper's baseline term ``f(x_b)`` is left out).

    No gradient; ``B·C`` masked forwards (2048 per image for ResNet50),
    batched ``batch_size`` at a time across images and channels, so it is
    orders of magnitude slower than the other methods (Table F.4: seconds
    per image on a GPU).

    Args:
        batch_size (int): masked images per forward.
        target_layer (int): see :class:`BaseCAM`.
    """

    def __init__(self, batch_size: int = 64, target_layer: int = -1):
        super().__init__(target_layer=target_layer)
        if batch_size < 1:
            raise ValueError(f'batch_size must be >= 1, got {batch_size}')
        self.batch_size = batch_size

    def forward(self, localizer, inputs, targets=None, feats=None):
        with torch.no_grad():
            if feats is None:
                feats = localizer.extract_feat(inputs)
            logits = localizer.head(feats)
            targets = self.pick_targets(logits, targets)
            activations = feats[self.layer_index(feats)]
            batch, channels = activations.shape[:2]
            scores = activations.new_zeros(batch * channels)
            for start in range(0, batch * channels, self.batch_size):
                index = torch.arange(
                    start, min(start + self.batch_size, batch * channels),
                    device=inputs.device)
                images, chans = index // channels, index % channels
                masks = F.interpolate(
                    activations[images, chans][:, None],
                    size=inputs.shape[-2:], mode='bilinear',
                    align_corners=False)
                low = masks.amin(dim=(2, 3), keepdim=True)
                high = masks.amax(dim=(2, 3), keepdim=True)
                valid = high > low
                masks = torch.where(
                    valid, (masks - low) / torch.where(valid, high - low, 1.0),
                    0.0)
                masked_logits = localizer.head(
                    localizer.extract_feat(inputs[images] * masks))
                probs = masked_logits.softmax(dim=1)
                chunk = probs.gather(1, targets[images][:, None])[:, 0]
                scores[index] = torch.where(valid.flatten(), chunk, 0.0)
            weights = scores.view(batch, channels)
            maps = F.relu(weighted_sum(activations, weights))
        return maps, logits
