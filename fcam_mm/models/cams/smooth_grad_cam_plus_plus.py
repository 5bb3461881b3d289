"""Smooth Grad-CAM++ (Omeiza et al., arXiv 2019)."""
import torch
import torch.nn.functional as F

from fcam_mm.registry import MODELS
from .base_cam import BaseGradientCAM
from .grad_cam_plus_plus import gradcampp_weights


@MODELS.register_module()
class SmoothGradCAMPlusPlus(BaseGradientCAM):
    """Grad-CAM++ whose derivative terms ``g, g², g³`` are averaged over
    ``num_samples`` copies of the input with Gaussian noise
    ``N(0, (noise_level · (max x − min x))²)`` (Omeiza et al. 2019); the
    activations weighted are those of the clean input.

    All noisy copies of the batch go through the network as one batch; the
    k-th noise pattern is the same for every image of a batch, so maps do not
    depend on batching.

    Args:
        num_samples (int): noisy copies per image.
        noise_level (float): noise standard deviation as a fraction of each
            image's value range.
        seed (int, optional): seed of the noise (``None``: global RNG).
    """

    def __init__(self, num_samples: int = 4, noise_level: float = 0.15,
                 seed=0, **kwargs):
        super().__init__(**kwargs)
        if num_samples < 1 or noise_level < 0:
            raise ValueError('need num_samples >= 1 and noise_level >= 0, '
                             f'got {num_samples}, {noise_level}')
        self.num_samples = num_samples
        self.noise_level = noise_level
        self.seed = seed

    def forward(self, localizer, inputs, targets=None, feats=None):
        batch = inputs.shape[0]
        with torch.no_grad():
            if feats is None:
                feats = localizer.extract_feat(inputs)
            logits = localizer.head(feats)
            targets = self.pick_targets(logits, targets)
            value_range = (inputs.flatten(1).amax(1) -
                           inputs.flatten(1).amin(1)).view(-1, 1, 1, 1)
            generator = None
            if self.seed is not None:
                generator = torch.Generator(device=inputs.device)
                generator.manual_seed(self.seed)
            # One noise pattern per sample, shared by the images of the
            # batch (scaled by each image's range), so an image's map does
            # not depend on the batch it comes in.
            noise = torch.randn((self.num_samples, 1) + inputs.shape[1:],
                                generator=generator, device=inputs.device,
                                dtype=inputs.dtype)
            noisy = (inputs[None] + noise * self.noise_level *
                     value_range[None]).flatten(0, 1)
            noisy_feats = localizer.extract_feat(noisy)
        _, grads, _, _ = self.target_gradients(
            localizer, noisy_feats, targets.repeat(self.num_samples))
        grads = grads.view((self.num_samples, batch) + grads.shape[1:])
        activations = feats[self.target_layer]
        weights = gradcampp_weights(activations, grads.mean(0),
                                    (grads**2).mean(0), (grads**3).mean(0))
        return F.relu((weights * activations).sum(dim=1)), logits
