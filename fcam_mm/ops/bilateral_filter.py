"""Dense Gaussian (bilateral) filtering over position and colour.

For an image with pixels ``i`` at column ``x_i``, row ``y_i`` and colour
``I_i`` (any number of channels, 0–255 for RGB), the dense kernel is::

    W_ij = exp(-|p_i - p_j|² / (2 σ_xy²) - |I_i - I_j|² / (2 σ_rgb²))

over *all* pixel pairs of the same image, the diagonal included
(``W_ii = 1``). It is the affinity of the dense-CRF loss of Tang et al.
(ECCV 2018) used by F-CAM. Two ways to apply it to maps ``v`` (B, C, H, W):

* :func:`dense_gaussian_filter` — ``W·v`` through the permutohedral lattice
  (:class:`~fcam_mm.ops.permutohedral.PermutohedralLattice`), O(N) time and
  memory, an autograd Function whose backward applies the transposed lattice
  operator to the incoming gradient — by default the symmetrised lattice
  operator, like W exactly symmetric, so the backward is the forward filter
  applied to the gradient;
* :func:`exact_dense_gaussian_filter` — the O(N²) brute-force reference
  (tests and benchmarks only), an autograd Function too, computed in row
  blocks so memory stays O(block·N).

Features are ``(x/σ_xy, y/σ_xy, I/σ_rgb)`` in that order (Tang et al.'s
order: the lattice is not rotation invariant, so the order matters for the
approximation, not for the exact kernel). The image is a constant: no
gradient flows to it or to the σ's.
"""
from typing import Optional

import torch

from .permutohedral import PermutohedralLattice

__all__ = [
    'image_features', 'dense_gaussian_filter', 'exact_dense_gaussian_filter',
    'DenseGaussianFilterFunction', 'ExactDenseGaussianFilterFunction'
]


def image_features(image: torch.Tensor, sigma_rgb: float,
                   sigma_xy: float) -> torch.Tensor:
    """``(x/σ_xy, y/σ_xy, I/σ_rgb)`` per pixel: (B, 2 + C, H, W).

    Args:
        image (Tensor): (B, C, H, W), colours on the scale σ_rgb refers to
            (0–255 for F-CAM). Integer images are converted to float32.
        sigma_rgb (float): colour standard deviation (> 0).
        sigma_xy (float): spatial standard deviation in pixels (> 0).
    """
    if image.dim() != 4:
        raise ValueError('image must be (B, C, H, W), got shape '
                         f'{tuple(image.shape)}')
    if not sigma_rgb > 0 or not sigma_xy > 0:
        raise ValueError(f'sigmas must be positive, got sigma_rgb='
                         f'{sigma_rgb}, sigma_xy={sigma_xy}')
    image = image.detach()
    if not image.is_floating_point() or image.dtype in (torch.float16,
                                                        torch.bfloat16):
        image = image.float()
    b, _, h, w = image.shape
    ys = torch.arange(h, dtype=image.dtype, device=image.device) / sigma_xy
    xs = torch.arange(w, dtype=image.dtype, device=image.device) / sigma_xy
    pos = torch.stack([xs[None, :].expand(h, w), ys[:, None].expand(h, w)])
    return torch.cat([pos[None].expand(b, 2, h, w), image / sigma_rgb], 1)


def _check_values(values: torch.Tensor, image: torch.Tensor) -> None:
    if values.dim() != 4 or values.shape[0] != image.shape[0] or \
            values.shape[2:] != image.shape[2:]:
        raise ValueError(
            f'values must be (B, C, H, W) matching the image (B, ·, H, W) '
            f'{tuple(image.shape)}, got {tuple(values.shape)}')
    if not values.is_floating_point():
        raise TypeError('values must be floating point')


class DenseGaussianFilterFunction(torch.autograd.Function):
    """``y = W̃ x`` for a prebuilt lattice; differentiable in ``x`` only.

    forward(values (B, C, N | H, W), lattice, normalization, order):
        ``lattice.filter(values, normalization, order)`` — splat, blur,
        slice, scaled per ``normalization``.
    backward(grad_y):
        ``grad_x = W̃ᵀ grad_y``: the same filter with the transposed blur
        order — for ``order='symmetric'`` (default) the very same operator
        (W̃ is exactly symmetric, as W), for ``'forward'`` the ``'reverse'``
        one. Gradients are thus exact for the operator the forward applied
        (gradcheck passes). Built from differentiable torch ops, so double
        backward w.r.t. the values works too.
    """

    @staticmethod
    def forward(ctx, values, lattice, normalization='gaussian',
                order='symmetric'):
        ctx.lattice = lattice
        ctx.normalization = normalization
        ctx.order = order
        return lattice.filter(values, normalization=normalization, order=order)

    @staticmethod
    def backward(ctx, grad_output):
        grad = None
        if ctx.needs_input_grad[0]:
            grad = ctx.lattice.filter(
                grad_output.contiguous(),
                normalization=ctx.normalization,
                order=ctx.lattice.transposed_order(ctx.order))
        return grad, None, None, None


def dense_gaussian_filter(values: torch.Tensor,
                          image: torch.Tensor,
                          sigma_rgb: float,
                          sigma_xy: float,
                          normalization: str = 'gaussian',
                          order: str = 'symmetric',
                          lattice: Optional[PermutohedralLattice] = None
                          ) -> torch.Tensor:
    """Apply the dense Gaussian kernel of ``image`` to ``values`` with the
    permutohedral lattice: ``out_i ≈ Σ_j W_ij v_j`` within each image.

    Args:
        values (Tensor): (B, C, H, W) maps, any number of channels, filtered
            all at once.
        image (Tensor): (B, 3, H, W) (any channel count), 0–255 for RGB.
        sigma_rgb (float): colour standard deviation.
        sigma_xy (float): spatial standard deviation in pixels.
        normalization (str): ``'gaussian'`` (default) approximates W itself
            (``W_ii = 1``, comparable with
            :func:`exact_dense_gaussian_filter`);
            ``'densecrf'`` reproduces the scale of the densecrf / Tang et al.
            lattice (≈ 0.7055·W in the dense limit); ``'raw'`` is the
            mass-preserving lattice output (≈ 0.01137·W).
        order (str): ``'symmetric'`` (default): the exactly symmetric
            operator ``½(W̃ + W̃ᵀ)``; ``'forward'``: Adams et al.'s blur order
            (the very operator of densecrf / Tang et al.), ``W̃``;
            ``'reverse'``: ``W̃ᵀ``.
        lattice (PermutohedralLattice, optional): reuse a lattice built from
            ``image_features(image, sigma_rgb, sigma_xy)`` (e.g. to filter
            several maps of the same batch); built here when ``None``.

    Returns:
        Tensor: (B, C, H, W), differentiable w.r.t. ``values`` (backward =
        the transposed lattice filter), not w.r.t. the image.
    """
    _check_values(values, image)
    if lattice is None:
        with torch.no_grad():
            lattice = PermutohedralLattice(
                image_features(image, sigma_rgb, sigma_xy))
    return DenseGaussianFilterFunction.apply(values, lattice, normalization,
                                             order)


def _exact_apply(values: torch.Tensor, features: torch.Tensor,
                 block: int) -> torch.Tensor:
    """Σ_j exp(-|f_i - f_j|²/2) v_j per image, in blocks of ``block`` rows.

    values (B, C, N), features (B, N, d) → (B, C, N).
    """
    b, c, n = values.shape
    out = values.new_empty(b, c, n)
    f = features.to(values.dtype)
    for k in range(b):
        for start in range(0, n, block):
            rows = f[k, start:start + block]
            d2 = torch.cdist(
                rows[None], f[k][None],
                compute_mode='donot_use_mm_for_euclid_dist')[0]**2
            # (rows, N) @ (N, C) → (rows, C)
            out[k, :, start:start + block] = (
                torch.exp(-0.5 * d2) @ values[k].t()).t()
    return out


class ExactDenseGaussianFilterFunction(torch.autograd.Function):
    """``y = W x`` with the exact dense kernel, O(N²) time, O(block·N)
    memory; backward ``grad_x = W grad_y`` (W is exactly symmetric)."""

    @staticmethod
    def forward(ctx, values, features, block=1024):
        ctx.save_for_backward(features)
        ctx.block = block
        b, c = values.shape[:2]
        out = _exact_apply(values.reshape(b, c, -1), features, block)
        return out.reshape(values.shape)

    @staticmethod
    def backward(ctx, grad_output):
        (features, ) = ctx.saved_tensors
        b, c = grad_output.shape[:2]
        grad = _exact_apply(
            grad_output.reshape(b, c, -1), features, ctx.block)
        return grad.reshape(grad_output.shape), None, None


def exact_dense_gaussian_filter(values: torch.Tensor,
                                image: torch.Tensor,
                                sigma_rgb: float,
                                sigma_xy: float,
                                block: int = 1024) -> torch.Tensor:
    """Brute-force ``out_i = Σ_j W_ij v_j`` (diagonal included, ``W_ii = 1``)
    — the reference the lattice is tested against. O(N²) per image: only
    for small images (tests, benchmarks).

    Args:
        values (Tensor): (B, C, H, W).
        image (Tensor): (B, C_img, H, W).
        sigma_rgb, sigma_xy (float): as in :func:`dense_gaussian_filter`.
        block (int): rows of W materialised at a time (memory block·N).

    Returns:
        Tensor: (B, C, H, W), differentiable w.r.t. ``values``.
    """
    _check_values(values, image)
    feats = image_features(image, sigma_rgb, sigma_xy)
    feats = feats.flatten(2).transpose(1, 2).contiguous()  # (B, N, d)
    return ExactDenseGaussianFilterFunction.apply(values, feats, block)
