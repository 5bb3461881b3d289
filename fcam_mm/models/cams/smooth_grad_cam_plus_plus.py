"""Smooth Grad-CAM++ (Omeiza et al., arXiv 2019)."""
from typing import Optional

import torch
import torch.nn.functional as F

from fcam_mm.registry import MODELS
from .base_cam import BaseGradientCAM, weighted_sum
from .grad_cam_plus_plus import gradcampp_weights


@MODELS.register_module()
class SmoothGradCAMPlusPlus(BaseGradientCAM):
    """Smooth Grad-CAM++ (Omeiza et al., "Smooth Grad-CAM++: An Enhanced
    Inference Level Visualization Technique for Deep Convolutional Neural
    Network Models", arXiv 1908.01224, 2019): Grad-CAM++ whose derivative
    terms are averaged over ``n`` noisy copies ``x + ε_m`` of the input,
    ``ε_m ~ N(0, σ²)``::

        D^p(x, y) = (1/n) Σ_m (∂y^c(x + ε_m) / ∂A_k(x, y))^p,   p = 1, 2, 3
        α_k(x, y) = D² / (2 D² + Σ_ab A_k(a, b) · D³),   α = 0 where D² = 0
        w_k^c     = Σ_xy α_k(x, y) · ReLU(D¹(x, y))
        M^c       = ReLU(Σ_k w_k^c · A_k)

    ``A`` are the clean input's activations. The powers are taken per
    sample, then averaged (``D²`` is the mean of ``g²``, not the square of
    the mean); on the raw class score, as Grad-CAM++.

    Batched: the ``n`` noisy copies of the whole batch go through the
    network as one batch of ``n·B`` images (one forward, one backward);
    ``samples_per_pass`` caps how many noise samples share a pass (each pass
    still holds the whole batch) when memory — or, on a CPU, cache — is
    short.
    Noise sample ``m`` is the same pattern for every image of a batch, drawn
    from a generator seeded with ``seed``, so an image's map does not depend
    on the batch it comes in and repeated evaluations agree.

    Args:
        num_samples (int): noisy copies ``n`` per image (F-CAM's
            reproduction, through torchcam: 4).
        noise_std (float): ``σ``, on the preprocessed (normalised) input
            (F-CAM / torchcam: 0.3).
        relative_noise (bool): if True, ``σ = noise_std · (max x − min x)``
            per image, SmoothGrad's convention (Smilkov et al. 2017 suggest
            0.1–0.2).
        seed (int, optional): seed of the noise; ``None`` draws from the
            global RNG (maps then vary between calls).
        samples_per_pass (int, optional): noise samples per forward /
            backward pass; ``None``: all ``num_samples`` in one pass. Maps do
            not depend on it.
        target_layer (int): see :class:`BaseCAM`.
    """

    def __init__(self, num_samples: int = 4, noise_std: float = 0.3,
                 relative_noise: bool = False, seed: Optional[int] = 0,
                 samples_per_pass: Optional[int] = None,
                 target_layer: int = -1):
        super().__init__(target_layer=target_layer)
        if num_samples < 1:
            raise ValueError(f'num_samples must be >= 1, got {num_samples}')
        if noise_std < 0:
            raise ValueError(f'noise_std must be >= 0, got {noise_std}')
        if samples_per_pass is not None and samples_per_pass < 1:
            raise ValueError('samples_per_pass must be >= 1 or None, got '
                             f'{samples_per_pass}')
        self.num_samples = num_samples
        self.samples_per_pass = samples_per_pass
        self.noise_std = noise_std
        self.relative_noise = relative_noise
        self.seed = seed

    def extra_repr(self) -> str:
        return (f'{super().extra_repr()}, num_samples={self.num_samples}, '
                f'noise_std={self.noise_std}, '
                f'relative_noise={self.relative_noise}, seed={self.seed}, '
                f'samples_per_pass={self.samples_per_pass}')

    def noise(self, inputs: torch.Tensor) -> torch.Tensor:
        """(n, B, ...) noise for ``inputs`` (B, ...)."""
        generator = None
        if self.seed is not None:
            generator = torch.Generator(device=inputs.device)
            generator.manual_seed(self.seed)
        noise = torch.randn((self.num_samples, 1) + inputs.shape[1:],
                            generator=generator, device=inputs.device,
                            dtype=inputs.dtype)
        std = torch.full((1, inputs.shape[0]) + (1, ) * (inputs.dim() - 1),
                         float(self.noise_std), device=inputs.device,
                         dtype=inputs.dtype)
        if self.relative_noise:
            flat = inputs.flatten(1)
            value_range = flat.amax(1) - flat.amin(1)
            std = std * value_range.view(std.shape)
        return noise * std

    def forward(self, localizer, inputs, targets=None, feats=None):
        with torch.no_grad():
            if feats is None:
                feats = localizer.extract_feat(inputs)
            logits = localizer.head(feats)
            targets = self.pick_targets(logits, targets)
            noise = self.noise(inputs)
        step = self.samples_per_pass or self.num_samples
        sums = [0.0, 0.0, 0.0]  # Σ_m g_m, Σ_m g_m², Σ_m g_m³
        for start in range(0, self.num_samples, step):
            chunk = noise[start:start + step]
            with torch.no_grad():
                noisy_feats = localizer.extract_feat(
                    (inputs[None] + chunk).flatten(0, 1))
            _, grads, _, _ = self.target_gradients(
                localizer, noisy_feats, targets.repeat(len(chunk)))
            del noisy_feats
            grads = grads.view((len(chunk), ) + inputs.shape[:1] +
                               grads.shape[1:])
            for p in range(3):
                sums[p] = sums[p] + (grads**(p + 1)).sum(0)
        d1, d2, d3 = (total / self.num_samples for total in sums)
        activations = feats[self.layer_index(feats)].detach()
        weights = gradcampp_weights(activations, d1, d2, d3)
        return F.relu(weighted_sum(activations, weights)), logits.detach()
