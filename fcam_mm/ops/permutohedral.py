"""A batched, device-agnostic permutohedral lattice in pure torch.

Implements the Gaussian filter of Adams, Baek and Davis, *Fast
High-Dimensional Filtering Using the Permutohedral Lattice* (Eurographics
2010)::

    out_i = Σ_j exp(-|f_i - f_j|² / 2) · v_j            (1)

for N points with d-dimensional features ``f`` (already divided by the
kernel's standard deviations) and values ``v`` with C channels, in O(N·d²)
instead of O(N²). The three steps are:

* **splat** — every feature is lifted onto the hyperplane ``Σ y = 0`` of
  R^{d+1} (scaled so the lattice spacing matches a unit Gaussian), the
  enclosing simplex of the lattice ``(d+1)·A*_d`` is found, and the value is
  spread on its d+1 vertices with barycentric weights;
* **blur** — along each of the d+1 lattice directions in turn, every
  occupied lattice point is convolved with its two neighbours with the
  kernel ``[1 2 1] / 4`` (mass preserving); neighbours that are not
  occupied count as zero;
* **slice** — every point reads the blurred lattice back with the same
  barycentric weights.

Here the lattice of every image of a batch is built at once: each lattice
point is identified by an integer key (image index, d coordinates) packed
into one int64, so one ``torch.unique`` hashes the whole batch and lattice
neighbours are found by ``torch.searchsorted`` on the sorted keys. Pixels
are first grouped by enclosing simplex (natural images put many pixels in
the same simplex), then the simplices' vertices are hashed, so the
expensive sort runs over N and S·(d+1) keys rather than N·(d+1). Nothing
loops over pixels or images, no NumPy is used, and every tensor is created
on the features' device, so the same code runs on CUDA.

Scale. The splat/blur/slice above preserves mass (up to truncation, see
below), so it approximates a *normalised* Gaussian density times the
volume of a lattice cell. With Adams et al.'s scaling the lattice
``(d+1)·A*_d`` has one point per ``(3/2)^{d/2} / sqrt(d+1)`` units of
feature volume, hence the raw lattice output is ≈ ``lattice_scale(d)`` times
(1), with::

    lattice_scale(d) = (3 / (4π))^{d/2} / sqrt(d + 1)     (0.011369, d = 5)

``filter(normalization=...)`` picks the output scale: ``'gaussian'``
(default) divides by it, so the output approximates (1) itself — diagonal
``exp(0) = 1``, comparable with the brute-force reference
:func:`fcam_mm.ops.exact_dense_gaussian_filter`; ``'densecrf'`` multiplies
the raw output by :func:`densecrf_gain` and so reproduces the operator of
the densecrf code of Krähenbühl & Koltun and of Tang et al.'s CRF loss,
which F-CAM's λ was tuned with (0.7055 × (1) in the dense limit, d = 5);
``'raw'`` leaves it as is.

Truncation. Only lattice points that some feature splats onto exist; the
blur drops whatever would flow to the others. Where features are sparse
relative to the kernel (image borders in feature space, noisy colours,
small σ) the output therefore falls below (1): measured 0.5–0.85 × (1) on
images (``docs/dense_crf.md``). It is inherent to the algorithm and shared
by every implementation of it, Tang et al.'s included.

Symmetry. Each blur pass is a symmetric matrix, but with truncation passes
along different directions do not commute, so Adams et al.'s operator
``W̃ = Sᵀ B_d⋯B_0 S`` (``order='forward'``) is not symmetric; its exact
transpose blurs in the reverse order (``order='reverse'``). The default
``order='symmetric'`` slices the average of both blur chains, ``½(W̃ +
W̃ᵀ)``: exactly symmetric, so it is its own backward, and it has the same
quadratic form ``xᵀ W̃ x`` as Adams et al.'s operator. It costs one more
blur over the M lattice points; splat and slice, over the N points, are
shared.
"""
import math
from typing import List, Optional, Tuple

import torch

__all__ = [
    'PermutohedralLattice', 'lattice_scale', 'densecrf_gain',
    'normalization_factor'
]

# int64 keys keep one bit for the sign and one as a safety margin.
_MAX_KEY_BITS = 62


def lattice_scale(dim: int) -> float:
    """Ratio of the raw (mass-preserving) lattice filter to the unnormalised
    Gaussian ``exp(-|Δf|²/2)`` for ``dim``-dimensional features.

    It is the volume of feature space per lattice point, ``(3/2)^{d/2} /
    sqrt(d+1)``, divided by the mass ``(2π)^{d/2}`` of the unnormalised
    Gaussian.
    """
    return (3.0 / (4.0 * math.pi))**(dim / 2.0) / math.sqrt(dim + 1.0)


def densecrf_gain(dim: int) -> float:
    """Ratio of the densecrf-style lattice filter to the raw one.

    Krähenbühl and Koltun's densecrf code — and the ``bilateralfilter``
    wrapper of Tang et al. (ECCV 2018) that F-CAM uses for its CRF loss —
    blur with ``[1/2 1 1/2]`` (twice ``[1 2 1]/4``) along each of the d+1
    directions and multiply the slice by ``α = 1 / (1 + 2^{-d})``. Same
    lattice, same weights, same truncation, so their output is exactly
    ``2^{d+1} / (1 + 2^{-d})`` times the raw output here (62.06 for d = 5).
    """
    return 2.0**(dim + 1) / (1.0 + 2.0**(-dim))


_NORMALIZATIONS = ('gaussian', 'densecrf', 'raw')
_ORDERS = ('forward', 'reverse', 'symmetric')


def normalization_factor(dim: int, normalization: str) -> float:
    """Factor applied to the raw lattice output for ``normalization``:
    ``'gaussian'`` → 1 / lattice_scale(d) (approximates the unnormalised
    Gaussian, diagonal 1), ``'densecrf'`` → densecrf_gain(d) (Tang et al.'s
    operator, ≈ 0.7055·Gaussian for d = 5), ``'raw'`` → 1."""
    if normalization == 'gaussian':
        return 1.0 / lattice_scale(dim)
    if normalization == 'densecrf':
        return densecrf_gain(dim)
    if normalization == 'raw':
        return 1.0
    raise ValueError(f'normalization must be one of {_NORMALIZATIONS}, '
                     f'got {normalization!r}')


def _mixed_radix(columns: List[torch.Tensor], pad: Tuple[int, ...]
                 ) -> Optional[Tuple[torch.Tensor, List[int]]]:
    """Pack m integer columns (each (K,)) into one int64 per row, or return
    ``None`` when their ranges (each widened by ``pad``) need more than
    ``_MAX_KEY_BITS`` bits.

    Returns ``(packed (K,), strides)``; a row offset by ``δ`` (within the
    padding) packs to ``packed + Σ_c δ_c · strides[c]``.
    """
    bounds = torch.stack([torch.stack([c.min(), c.max()]) for c in columns])
    bounds = bounds.tolist()  # one host sync for the whole batch
    radices = [hi - lo + 1 + 2 * pd for (lo, hi), pd in zip(bounds, pad)]
    total = 1
    for r in radices:
        total *= r
    if total >= 2**_MAX_KEY_BITS:
        return None
    strides = [1] * len(radices)
    for c in range(len(radices) - 2, -1, -1):
        strides[c] = strides[c + 1] * radices[c + 1]
    packed = None
    for col, (lo, _), pd, st in zip(columns, bounds, pad, strides):
        term = (col.long() - (lo - pd)) * st
        packed = term if packed is None else packed + term
    return packed, strides


class PermutohedralLattice:
    """Permutohedral lattices of a batch of point sets, one lattice per item.

    Args:
        features (Tensor): (B, d, H, W) feature maps or (B, N, d) point
            features, already divided by the kernel standard deviations
            (the filter is ``exp(-|f_i - f_j|² / 2)``). Floating point; the
            lattice is built on their device and in their dtype.

    Attributes:
        batch_size, num_points, dim: B, N (points per item) and d.
        num_lattice_points (int): M, occupied lattice points over the batch.
        offsets (Tensor): (d+1, B·N) long, lattice point of vertex r of
            every point's enclosing simplex.
        weights (Tensor): (d+1, B·N) barycentric weights (sum to 1 over
            the d+1 vertices).
        neighbours (Tensor): (d+1, 2, M) long, the two neighbours of every
            lattice point along every direction; ``M`` marks "unoccupied".
    """

    def __init__(self, features: torch.Tensor):
        if features.dim() == 4:
            b, d, h, w = features.shape
            features = features.reshape(b, d, h * w).transpose(1, 2)
        elif features.dim() != 3:
            raise ValueError('features must be (B, d, H, W) or (B, N, d), '
                             f'got shape {tuple(features.shape)}')
        if not features.is_floating_point():
            raise TypeError('features must be floating point')
        b, n, d = features.shape
        if b == 0 or n == 0 or d == 0:
            raise ValueError('features must be non-empty, got shape '
                             f'{tuple(features.shape)}')
        self.batch_size, self.num_points, self.dim = b, n, d
        self.device = features.device
        with torch.no_grad():
            self._build(features.permute(2, 0, 1).reshape(d, b * n))

    # ------------------------------------------------------------------ build
    # The build works on one contiguous 1-D tensor per coordinate ("column
    # layout"): on the CPU, strided per-row access to (P, d+1) tensors is
    # several times slower than whole-column arithmetic.
    def _build(self, f: torch.Tensor) -> None:
        d, p = f.shape
        dev, dt = f.device, f.dtype
        dp1 = d + 1
        # 1. Elevate onto the hyperplane Σ y = 0 of R^{d+1}: y = E·diag(s)·f,
        #    E with orthogonal columns (1,…,1, -(k+1), 0,…) of norm
        #    sqrt((k+1)(k+2)), so ‖y_i - y_j‖ = sqrt(2/3)(d+1)‖f_i - f_j‖.
        inv_std = math.sqrt(2.0 / 3.0) * dp1
        cf = [f[k] * (inv_std / math.sqrt((k + 1) * (k + 2)))
              for k in range(d)]
        elevated = [None] * dp1
        partial = torch.zeros_like(cf[0])
        for j in range(d, 0, -1):
            elevated[j] = partial - j * cf[j - 1]
            partial = partial + cf[j - 1]
        elevated[0] = partial
        del cf, partial

        # 2. Nearest remainder-0 lattice point (coordinates rd·(d+1)) and the
        #    simplex containing the point: rank[i] = number of coordinates
        #    whose residual is larger (ties: the lower index ranks first).
        rd = [torch.round(e / dp1) for e in elevated]
        residual = [e - r * dp1 for e, r in zip(elevated, rd)]
        del elevated
        count = [torch.zeros(p, dtype=torch.uint8, device=dev)
                 for _ in range(dp1)]
        for i in range(dp1):
            for j in range(i + 1, dp1):
                larger = residual[i] < residual[j]
                count[i] += larger
                count[j] += ~larger
        # Bring the remainder-0 point back onto the plane (Σ = 0): shift
        # the ranks by the coordinate sum and wrap the ones that overflow.
        coord_sum = torch.stack(rd).sum(0).to(torch.int16)
        rank, v = [], []
        for j in range(dp1):
            rk = count[j].to(torch.int16) + coord_sum
            wrap = (rk < 0).to(torch.int16) - (rk > d).to(torch.int16)
            rank.append(rk + dp1 * wrap)
            rd[j] = rd[j] + wrap.to(dt)
            v.append(residual[j] / dp1 - wrap.to(dt))
        del count, coord_sum, residual

        # 3. Barycentric weights (Adams et al., p.10): with u[k] the scaled
        #    residual of the coordinate ranked k, vertex m gets
        #    u[d-m] - u[d-m+1], and vertex 0 gets 1 + u[d] - u[0].
        rank_t = torch.stack(rank).long()
        u = torch.zeros(dp1, p, dtype=dt, device=dev).scatter_(
            0, rank_t, torch.stack(v))
        del v
        weights = torch.empty_like(u)
        weights[0] = 1.0 + u[d] - u[0]
        weights[1:] = u[:d].flip(0) - u[1:].flip(0)
        self.weights = weights  # (d+1, P): vertex r of every point
        del u

        # 4. Group the points by enclosing simplex (image, rem0, rank); the
        #    rank of the last coordinate follows from the others.
        item = torch.arange(
            self.batch_size, device=dev).repeat_interleave(self.num_points)
        rd_long = [r.long() for r in rd[:d]]
        rank_code = sum(rank_t[k] * dp1**k for k in range(d))
        columns = [item] + rd_long + [rank_code]
        packed = _mixed_radix(columns, (0, ) * (d + 2))
        if packed is not None:
            _, simplex_of_point = torch.unique(
                packed[0], sorted=False, return_inverse=True)
        else:
            _, simplex_of_point = torch.unique(
                torch.stack(columns, 1), dim=0, return_inverse=True)
        del packed, columns, rank_code
        num_simplices = int(simplex_of_point.max()) + 1
        rep = torch.empty(num_simplices, dtype=torch.long, device=dev)
        rep.scatter_(0, simplex_of_point, torch.arange(p, device=dev))
        s_rem0 = torch.stack([r[rep] for r in rd_long], 1) * dp1  # (S, d)
        s_rank = rank_t[:d, rep].t()  # (S, d)
        s_item = item[rep]
        del rd, rd_long, rank, rank_t, item, rep

        # 5. The d+1 vertices of every simplex: vertex r of the canonical
        #    simplex adds r to coordinate i, minus (d+1) where rank[i] > d-r.
        #    Only d coordinates are kept (the last one is minus their sum).
        r = torch.arange(dp1, device=dev)
        keys = (s_rem0[:, None, :] + r[None, :, None] -
                dp1 * (s_rank[:, None, :] > (d - r)[None, :, None]).long())
        keys = keys.reshape(num_simplices * dp1, d)
        s_item = s_item.repeat_interleave(dp1)
        del s_rem0, s_rank
        columns = [s_item] + list(keys.t())
        packed = _mixed_radix(columns, (0, ) + (dp1, ) * d)
        if packed is not None:
            ukeys, vert = torch.unique(packed[0], return_inverse=True)
            m = ukeys.numel()
            self.neighbours = self._neighbours_packed(ukeys, packed[1])
        else:
            urows, vert = torch.unique(
                torch.stack(columns, 1), dim=0, return_inverse=True)
            m = urows.shape[0]
            self.neighbours = self._neighbours_rows(urows)
        # (d+1, P): lattice point of vertex r of every point
        self.offsets = vert.view(num_simplices, dp1).t()[:, simplex_of_point]
        self.num_lattice_points = m
        self.num_simplices = num_simplices

    def _neighbours_packed(self, ukeys: torch.Tensor, strides) -> torch.Tensor:
        """Neighbours along each direction j: key ± (1,…,1) ∓ (d+1)·e_j
        (e_d is implicit: only the first d coordinates are stored)."""
        d, m = self.dim, ukeys.numel()
        coord = strides[1:]
        base = sum(coord)
        out = []
        for j in range(d + 1):
            delta = base - (d + 1) * coord[j] if j < d else base
            pair = []
            for q in (ukeys + delta, ukeys - delta):
                idx = torch.searchsorted(ukeys, q).clamp_(max=m - 1)
                pair.append(torch.where(ukeys[idx] == q, idx,
                                        torch.full_like(idx, m)))
            out.append(torch.stack(pair))
        return torch.stack(out)

    def _neighbours_rows(self, urows: torch.Tensor) -> torch.Tensor:
        """Fallback when keys do not fit an int64: look the neighbour rows up
        by one ``unique(dim=0)`` over occupied and queried rows."""
        d, m = self.dim, urows.shape[0]
        deltas = []
        for j in range(d + 1):
            delta = torch.ones(d + 1, dtype=torch.long, device=urows.device)
            delta[0] = 0  # the image index
            if j < d:
                delta[j + 1] -= d + 1
            deltas += [delta, -delta]
        queries = urows[None] + torch.stack(deltas)[:, None]
        queries = queries.reshape(-1, d + 1)
        _, inv = torch.unique(
            torch.cat([urows, queries]), dim=0, return_inverse=True)
        table = torch.full((int(inv.max()) + 1, ), m, dtype=torch.long,
                           device=urows.device)
        table[inv[:m]] = torch.arange(m, device=urows.device)
        return table[inv[m:]].view(d + 1, 2, m)

    # ------------------------------------------------------------- operators
    def _flat_values(self, values: torch.Tensor) -> torch.Tensor:
        b, n = self.batch_size, self.num_points
        if values.shape[0] != b or values[0, 0].numel() != n:
            raise ValueError(
                f'values must be (B={b}, C, N={n}) or (B, C, H, W) with H·W '
                f'= N, got shape {tuple(values.shape)}')
        c = values.shape[1]
        return values.reshape(b, c, n).transpose(1, 2).reshape(b * n, c)

    def splat(self, values: torch.Tensor) -> torch.Tensor:
        """(B, C, N) or (B, C, H, W) values → (M, C) lattice values."""
        flat = self._flat_values(values)
        w = self.weights.to(flat.dtype)
        lat = flat.new_zeros(self.num_lattice_points, flat.shape[1])
        for r in range(self.dim + 1):
            lat.index_add_(0, self.offsets[r], w[r, :, None] * flat)
        return lat

    def blur(self, lat: torch.Tensor, order: str = 'forward') -> torch.Tensor:
        """``[1 2 1]/4`` along directions 0…d (``'forward'``), d…0
        (``'reverse'``) or the mean of both (``'symmetric'``)."""
        if order == 'symmetric':
            return 0.5 * (self.blur(lat, 'forward') +
                          self.blur(lat, 'reverse'))
        if order not in _ORDERS:
            raise ValueError(f'order must be one of {_ORDERS}, got {order!r}')
        zero = lat.new_zeros(1, lat.shape[1])
        dirs = range(self.dim + 1)
        if order == 'reverse':
            dirs = reversed(dirs)
        for j in dirs:
            ext = torch.cat([lat, zero])
            n1, n2 = self.neighbours[j]
            lat = 0.5 * lat + 0.25 * (ext[n1] + ext[n2])
        return lat

    def slice(self, lat: torch.Tensor) -> torch.Tensor:
        """(M, C) lattice values → (B, C, N) values at the points."""
        w = self.weights.to(lat.dtype)
        out = w[0, :, None] * lat[self.offsets[0]]
        for r in range(1, self.dim + 1):
            out += w[r, :, None] * lat[self.offsets[r]]
        b, n = self.batch_size, self.num_points
        return out.view(b, n, -1).transpose(1, 2)

    def filter(self,
               values: torch.Tensor,
               normalization: str = 'gaussian',
               order: str = 'symmetric') -> torch.Tensor:
        """Approximate ``out_i = Σ_j exp(-|f_i - f_j|²/2) v_j`` within each
        item of the batch, for all channels at once.

        Args:
            values (Tensor): (B, C, N) or (B, C, H, W); any floating dtype.
            normalization (str): output scale: ``'gaussian'`` approximates
                the sum above (diagonal weight 1), ``'densecrf'`` is the scale
                of densecrf / Tang et al.'s lattice, ``'raw'`` the
                mass-preserving lattice output (see the module docstring).
            order (str): ``'symmetric'`` (default; exactly symmetric
                operator), ``'forward'`` (Adams et al.'s blur order) or
                ``'reverse'`` (the exact transpose of ``'forward'``).

        Returns:
            Tensor: same shape as ``values``. Differentiable w.r.t. values
            (plain torch ops), but :func:`fcam_mm.ops.dense_gaussian_filter`
            is the cheaper way to differentiate.
        """
        factor = normalization_factor(self.dim, normalization)
        out = self.slice(self.blur(self.splat(values), order=order))
        if factor != 1.0:
            out = out * factor
        return out.reshape(values.shape)

    @staticmethod
    def transposed_order(order: str) -> str:
        """The ``order`` whose operator is the transpose of ``order``'s."""
        return {'forward': 'reverse', 'reverse': 'forward'}.get(order, order)

    def __repr__(self):
        return (f'{self.__class__.__name__}(batch_size={self.batch_size}, '
                f'num_points={self.num_points}, dim={self.dim}, '
                f'num_simplices={self.num_simplices}, '
                f'num_lattice_points={self.num_lattice_points}, '
                f'device={self.device})')
