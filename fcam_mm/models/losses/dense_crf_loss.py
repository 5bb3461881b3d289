"""Dense CRF loss (Tang et al., ECCV 2018), as used by F-CAM (eq. B.1)."""
import torch
import torch.nn as nn
import torch.nn.functional as F

from fcam_mm.ops import (dense_gaussian_filter, exact_dense_gaussian_filter,
                         normalization_factor)
from fcam_mm.registry import MODELS
from ..utils.precision import float32_without_autocast
from .utils import check_loss_weight, check_positive


@MODELS.register_module()
class DenseCRFLoss(nn.Module):
    r"""Dense CRF regulariser of Tang et al. (*On Regularized Losses for
    Weakly-supervised CNN Segmentation*, ECCV 2018), F-CAM's ``λ·R(S, X)``.

    For every image, with ``S_t`` (N pixels) the softmax maps (t over the
    K = 2 channels, background and foreground) and ``W`` the dense Gaussian
    affinity over position and colour::

        R(S, X) = Σ_t S_tᵀ W (1 - S_t)
                = Σ_{i,j} W_ij Σ_t S_it (1 - S_jt),
        W_ij = exp(-|p_i - p_j|² / (2 σ_xy²) - |I_i - I_j|² / (2 σ_rgb²)),

    i, j over *all* pixel pairs, the diagonal included (as in Tang et al.'s
    lattice: ``W_ii`` contributes the Gini impurity ``Σ_t S_it(1 - S_it)``
    of every pixel). ``W·S`` is computed with the permutohedral lattice
    (:func:`fcam_mm.ops.dense_gaussian_filter`) in O(N). Returned:
    ``loss_weight · Σ_images R / B`` (``reduction='mean'``: normalised by
    the batch size, as the authors' code), ``Σ_images R`` (``'sum'``) or the
    (B,) per-image values (``'none'``).

    Relation to the authors' code. Tang et al. (and F-CAM, which reuses
    their ``bilateralfilter`` wrapper) return ``-Σ_t S_tᵀ W S_t / B``; when
    ``Σ_t S_t = 1`` this differs from ``R / B`` only by the constant
    ``1ᵀ W 1 / B``, so the gradients (``W 1 - 2 W S_t``, whose ``W 1`` part
    is the same for every channel and is annihilated by the softmax) are the
    same; the value here is the non-negative R of the paper (a graph cut:
    0 when every pixel is certain and agrees with its neighbours).

    Kernel scale and λ. The lattice only approximates W (see
    ``docs/dense_crf.md``). ``normalization='densecrf'`` (default) applies
    exactly the operator of Tang et al.'s lattice (densecrf's ``[½ 1 ½]``
    blur and ``α = 1/(1 + 2^{-5})``), so λ = 2e-9 means what it meant in
    F-CAM; in the dense limit that operator is ``0.7055·W``, and on photos,
    where the lattice's truncation loses mass, ≈ 0.5–0.6·W. The lattice
    operator is symmetrised (``½(W̃ + W̃ᵀ)``, same quadratic form as Tang et
    al.'s ``W̃``), so the gradient is the exact gradient of the value.
    ``'gaussian'`` uses the lattice rescaled to approximate ``W`` itself
    (multiply λ by ≈ 0.71 for the same strength).

    Scale. ``scale_factor = s < 1`` resizes the image (nearest) and the
    maps (bilinear, ``align_corners=False``) by ``s`` before the loss, with
    ``σ_xy`` multiplied by ``s`` (the same kernel in image units), as the
    authors do. R is a sum over all pixel pairs: with N pixels and a row
    mass ``m_i = Σ_j W_ij`` (the number of pixels "similar" to i), R ≈
    ``Σ_i m_i · Σ_t S_it(1 - S̄_it)``. Resizing by ``s`` multiplies N by
    ``s²`` and every row mass by ``s²`` too (σ_xy shrinks with the image),
    so for the same maps::

        R_s ≈ s⁴ · R_1    (the gradient per full-resolution pixel too)

    (measured ``R_1 / R_0.5`` = 16.2 on photo crops,
    ``tools/analysis_tools/benchmark_crf.py``). λ = 2e-9 was used by Tang
    et al. at s = 0.5 and by F-CAM at s = 1.0 — 16× stronger in F-CAM for
    the same maps. To keep the
    strength of a recipe while changing its scale from s₁ to s₂, use
    ``λ₂ = λ₁ · (s₁ / s₂)⁴``.

    Args:
        loss_weight (float): λ, finite and >= 0. Default 2e-9 (F-CAM, Tang
            et al.).
        sigma_rgb (float): colour standard deviation on 0–255 images (> 0).
        sigma_xy (float): spatial standard deviation in pixels of the
            input resolution (scaled by ``scale_factor`` internally).
        scale_factor (float): resize factor applied before the loss
            (F-CAM: 1.0; Tang et al.: often 0.5).
        reduction (str): ``'mean'`` (sum over pixels, mean over images),
            ``'sum'`` or ``'none'`` (per image, (B,)).
        normalization (str): ``'densecrf'`` (default, Tang et al.'s lattice
            scale) or ``'gaussian'`` (W itself); see above.
        backend (str): ``'lattice'`` (default) or ``'exact'`` — the O(N²)
            brute-force W (small images only: tests, benchmarks); with
            ``'densecrf'`` the exact W is multiplied by the lattice's
            dense-limit factor 0.7055.

    Shapes:
        probs: (B, K, H, W) probabilities (softmax over K; K = 2 in F-CAM).
        images: (B, 3, H, W) raw RGB in 0–255 (not mean/std normalised).
        output: scalar (``'mean'``/``'sum'``) or (B,) (``'none'``).
    """

    def __init__(self,
                 loss_weight: float = 2e-9,
                 sigma_rgb: float = 15.0,
                 sigma_xy: float = 100.0,
                 scale_factor: float = 1.0,
                 reduction: str = 'mean',
                 normalization: str = 'densecrf',
                 backend: str = 'lattice'):
        super().__init__()
        if reduction not in ('mean', 'sum', 'none'):
            raise ValueError("reduction must be 'mean', 'sum' or 'none', "
                             f'got {reduction!r}')
        if normalization not in ('densecrf', 'gaussian'):
            raise ValueError("normalization must be 'densecrf' or "
                             f"'gaussian', got {normalization!r}")
        if backend not in ('lattice', 'exact'):
            raise ValueError("backend must be 'lattice' or 'exact', got "
                             f'{backend!r}')
        self.loss_weight = check_loss_weight('loss_weight (λ of the CRF)',
                                             loss_weight)
        self.sigma_rgb = check_positive('sigma_rgb', sigma_rgb)
        self.sigma_xy = check_positive('sigma_xy', sigma_xy)
        self.scale_factor = check_positive('scale_factor', scale_factor)
        self.reduction = reduction
        self.normalization = normalization
        self.backend = backend

    # The lattice sums ~N² terms: float32 even under --amp.
    @float32_without_autocast
    def crf_energy(self, probs: torch.Tensor,
                   images: torch.Tensor) -> torch.Tensor:
        """Per-image ``R(S, X)`` (B,) after resizing, without λ."""
        if probs.dim() != 4 or images.dim() != 4 or \
                probs.shape[0] != images.shape[0] or \
                probs.shape[2:] != images.shape[2:]:
            raise ValueError(
                f'probs (B, K, H, W) and images (B, 3, H, W) must agree, got '
                f'{tuple(probs.shape)} and {tuple(images.shape)}')
        images = images.detach()
        if not images.is_floating_point():
            images = images.float()
        sigma_xy = self.sigma_xy
        if self.scale_factor != 1.0:
            images = F.interpolate(
                images,
                scale_factor=self.scale_factor,
                mode='nearest',
                recompute_scale_factor=False)
            probs = F.interpolate(
                probs,
                scale_factor=self.scale_factor,
                mode='bilinear',
                align_corners=False,
                recompute_scale_factor=False)
            sigma_xy = sigma_xy * self.scale_factor
        if self.backend == 'lattice':
            ws = dense_gaussian_filter(
                probs, images, self.sigma_rgb, sigma_xy,
                normalization=self.normalization)
        else:
            ws = exact_dense_gaussian_filter(probs, images, self.sigma_rgb,
                                             sigma_xy)
            if self.normalization == 'densecrf':
                ws = ws * normalization_factor(images.shape[1] + 2,
                                               'densecrf') / \
                    normalization_factor(images.shape[1] + 2, 'gaussian')
        # Σ_t (W S_t)ᵀ (1 - S_t): W symmetric, so this is Σ_t S_tᵀ W (1 - S_t).
        return (ws * (1.0 - probs)).flatten(1).sum(1)

    @float32_without_autocast
    def forward(self, probs: torch.Tensor,
                images: torch.Tensor) -> torch.Tensor:
        energy = self.crf_energy(probs, images)
        if self.reduction == 'mean':
            energy = energy.sum() / energy.shape[0]
        elif self.reduction == 'sum':
            energy = energy.sum()
        return self.loss_weight * energy

    def extra_repr(self) -> str:
        return (f'loss_weight={self.loss_weight}, sigma_rgb={self.sigma_rgb}, '
                f'sigma_xy={self.sigma_xy}, scale_factor={self.scale_factor}, '
                f'reduction={self.reduction!r}, '
                f'normalization={self.normalization!r}, '
                f'backend={self.backend!r}')
