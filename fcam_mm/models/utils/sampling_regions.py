"""F-CAM's sampling regions and pseudo-labels (Belharbi et al., WACV 2022,
§3, eq. 1–2), batched in torch on the maps' device.

For a full-resolution CAM ``C`` of the ground-truth class:

- ``C⁺ = ψ⁺(C)``: the pixels above the Otsu (1979) threshold of ``C``
  (foreground, pseudo-label 1);
- ``C⁻ = ψ⁻(C, n⁻)``: the ``n⁻`` fraction of pixels with the lowest
  activations (background, pseudo-label 0);
- ``Ω' = U(C⁺) ∪ U(C⁻)``: a few pixels drawn uniformly from each region at
  every training step; every other pixel is ignored by the partial
  cross-entropy.

No NumPy/scikit-image and no per-image Python loop: one batched pass whose
cost does not depend on the batch's content, on CPU or GPU alike.
"""
from typing import Optional, Tuple

import torch
import torch.nn.functional as F

from .precision import float32_without_autocast

IGNORE_INDEX = 255


# --------------------------------------------------------------------------
# Otsu
# --------------------------------------------------------------------------
def _minmax_rows(flat: torch.Tensor) -> Tuple[torch.Tensor, ...]:
    """Per-row min-max terms of (B, N) values: ``(safe, low, span, valid)``
    with non-finite values zeroed in ``safe``, ``low`` / ``span`` the row
    minimum and range (a zero range replaced by 1, keepdim), and ``valid``
    the rows that are finite and not constant."""
    finite = torch.isfinite(flat).all(dim=1)
    safe = torch.where(torch.isfinite(flat), flat, torch.zeros_like(flat))
    low = safe.amin(dim=1, keepdim=True)
    span = safe.amax(dim=1, keepdim=True) - low
    valid = finite & (span[:, 0] > 0)
    return safe, low, torch.where(span > 0, span, torch.ones_like(span)), \
        valid


def _quantize(flat: torch.Tensor, bins: int) -> Tuple[torch.Tensor, ...]:
    """Per-row levels ``⌊(x − min) · bins / (max − min)⌋`` clipped to
    ``bins − 1`` and a mask of the rows that have a split (finite values
    and ``max > min``). ``flat`` is (B, N) float64."""
    safe, low, span, valid = _minmax_rows(flat)
    levels = ((safe - low) * (bins / span)).floor().clamp_(0, bins - 1).long()
    return levels, valid


def _otsu_split(levels: torch.Tensor, bins: int) -> torch.Tensor:
    """Otsu's split of integer levels (B, N) in ``[0, bins)``: the level
    ``k*`` maximising the between-class variance when the lower class is
    ``{level < k}``, for ``k = 1 … bins − 1``.

    With ``h`` the histogram, ``W₀(k) = Σ_{i<k} h_i``,
    ``M₀(k) = Σ_{i<k} i·h_i`` and ``N``, ``M`` the totals, the
    between-class variance is, up to the factor ``1/N²``,
    ``σ²_B(k) ∝ (M·W₀ − N·M₀)² / (W₀ · (N − W₀))`` (Otsu 1979, eq. 18).
    Empty classes score −1; ties keep the smallest ``k`` (like
    scikit-image's ``threshold_otsu``).
    """
    batch, num = levels.shape
    # Integer counts and cumulative sums: exact, and deterministic on GPUs.
    hist = torch.zeros(batch, bins, dtype=torch.long, device=levels.device)
    hist.scatter_add_(1, levels, torch.ones_like(levels))
    moments = hist * torch.arange(bins, device=levels.device)
    weight_low = hist.cumsum(dim=1)[:, :-1].double()  # W₀(k), k = 1…bins-1
    moment_low = moments.cumsum(dim=1)[:, :-1].double()  # M₀(k)
    total_moment = moments.sum(dim=1, keepdim=True).double()
    denom = weight_low * (num - weight_low)
    score = (total_moment * weight_low - num * moment_low)**2 / torch.where(
        denom > 0, denom, torch.ones_like(denom))
    score = torch.where(denom > 0, score, torch.full_like(score, -1.0))
    return score.argmax(dim=1) + 1


@float32_without_autocast
def otsu_threshold(x: torch.Tensor, bins: int = 256) -> torch.Tensor:
    """Otsu's threshold of each map of a batch, from its histogram.

    Each map (any shape after the batch dimension) is quantised to ``bins``
    equal-width levels over its own ``[min, max]``; the split ``k*`` of the
    level histogram that maximises the between-class variance
    ``σ²_B = ω₀ ω₁ (μ₀ − μ₁)²`` (Otsu, IEEE TSMC 1979) is found for all maps
    at once. The returned threshold is the largest value of the lower class,
    so the Otsu foreground is exactly ``x > t`` — the convention of
    scikit-image's ``threshold_otsu``, which it equals on uint8 maps that
    span 0–255 with ``bins=256`` (each level is then one grey value).

    Args:
        x (Tensor): (B, ...) maps, any real dtype.
        bins (int): number of histogram bins (>= 2).

    Returns:
        Tensor: (B,) thresholds in ``x``'s units (float64 for float64 input,
        else float32). NaN for a map without a split — constant, or holding
        NaN/inf — so that ``x > t`` is empty there.
    """
    if not isinstance(bins, int) or bins < 2:
        raise ValueError(f'bins must be an integer >= 2, got {bins!r}')
    if x.dim() < 2:
        raise ValueError('x must be a batch of maps (B, ...), got shape '
                         f'{tuple(x.shape)}')
    out_dtype = torch.float64 if x.dtype == torch.float64 else torch.float32
    flat = x.detach().reshape(x.shape[0], -1).to(torch.float64)
    if flat.shape[1] == 0:
        raise ValueError('x has empty maps')
    levels, valid = _quantize(flat, bins)
    split = _otsu_split(levels, bins)
    lower = levels < split[:, None]
    below = torch.where(lower, flat, torch.full_like(flat, -float('inf')))
    threshold = below.amax(dim=1)
    threshold = torch.where(valid, threshold,
                            torch.full_like(threshold, float('nan')))
    return threshold.to(out_dtype)


# --------------------------------------------------------------------------
# Pseudo-labels
# --------------------------------------------------------------------------
def cam_to_uint8(cams: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
    """Per-image min-max normalisation then ``⌊255 · c⌋``: the uint8 CAM of
    the authors' seeder, as float values 0…255 (B, N), and a (B,) mask of
    the images that can be seeded (finite and not constant)."""
    flat = cams.detach().reshape(cams.shape[0], -1).to(torch.float64)
    safe, low, span, valid = _minmax_rows(flat)
    return ((safe - low) / span * 255).floor().clamp_(0, 255), valid


def _erode(mask: torch.Tensor, kernel: int) -> torch.Tensor:
    """Binary erosion of (B, 1, H, W) masks by a ``kernel × kernel``
    square: ``−maxpool(−m)``. Outside the image counts as foreground (the
    padding of ``max_pool2d`` is −inf), so the border does not erode — as
    OpenCV's ``erode`` and kornia's geodesic erosion."""
    if kernel <= 1:
        return mask
    return -F.max_pool2d(-mask, kernel, stride=1, padding=kernel // 2)


def _grow(centres: torch.Tensor, size: int) -> torch.Tensor:
    """Dilate (B, 1, H, W) seed centres to ``size × size`` squares, clipped
    at the image border."""
    if size <= 1:
        return centres
    return F.max_pool2d(centres, size, stride=1, padding=size // 2)


def _rand(shape, generator: Optional[torch.Generator],
          device: torch.device) -> torch.Tensor:
    """Uniform [0, 1) numbers on ``device``, drawn from ``generator`` (on
    the generator's own device) when one is given."""
    if generator is None:
        return torch.rand(shape, device=device)
    return torch.rand(
        shape, generator=generator, device=generator.device).to(device)


def _pick(region: torch.Tensor, num: int,
          generator: Optional[torch.Generator]) -> torch.Tensor:
    """Up to ``num`` pixels drawn uniformly without replacement from each
    row of the (B, N) bool ``region``; returns a (B, N) bool mask (fewer
    pixels where the region is smaller, none where it is empty)."""
    picked = torch.zeros_like(region)
    if num <= 0:
        return picked
    num = min(num, region.shape[1])
    keys = _rand(region.shape, generator, region.device)
    keys = torch.where(region, keys, torch.full_like(keys, -1.0))
    top, index = keys.topk(num, dim=1)
    picked.scatter_(1, index, top >= 0)
    return picked


def _check_int(name: str, value, minimum: int, odd: bool = False) -> None:
    if isinstance(value, bool) or not isinstance(value, int) \
            or value < minimum or (odd and value % 2 == 0):
        kind = 'an odd integer' if odd else 'an integer'
        raise ValueError(f'{name} must be {kind} >= {minimum}, got {value!r}')


def _check_n_neg(n_neg) -> None:
    if isinstance(n_neg, bool) or not isinstance(n_neg, (int, float)) \
            or not 0.0 < float(n_neg) < 1.0:
        raise ValueError('n_neg is the fraction of lowest-CAM pixels taken '
                         f'as background and must be in (0, 1), got '
                         f'{n_neg!r}')


def sampling_regions(cams: torch.Tensor,
                     n_neg: float = 0.1,
                     erode_kernel: int = 11,
                     generator: Optional[torch.Generator] = None
                     ) -> Tuple[torch.Tensor, torch.Tensor]:
    """The regions ``C⁺`` and ``C⁻`` of eq. 1 for a batch of CAMs.

    - ``C⁺``: Otsu region of the uint8 CAM ``q = ⌊255 · minmax(C)⌋``,
      i.e. ``q > t`` with ``t`` the Otsu threshold of ``q`` (256 bins; a
      threshold of 0 is raised to 1, as in the authors' code), eroded once
      by an ``erode_kernel²`` square; if erosion empties it, the un-eroded
      region is kept.
    - ``C⁻``: the ``k = max(1, ⌊n⁻ · H · W⌋)`` pixels with the lowest CAM
      values; ties at the cut are broken uniformly at random (with
      ``generator``), so a flat zero area does not favour the top rows.

    Images whose CAM is constant or holds NaN/inf get empty regions.

    Returns:
        tuple[Tensor, Tensor]: bool ``(positive, negative)``, each (B, H, W).
    """
    if cams.dim() == 4 and cams.shape[1] == 1:
        cams = cams[:, 0]
    if cams.dim() != 3:
        raise ValueError('cams must be (B, H, W) (or (B, 1, H, W)), got '
                         f'shape {tuple(cams.shape)}')
    _check_n_neg(n_neg)
    _check_int('erode_kernel', erode_kernel, 1, odd=True)
    batch, height, width = cams.shape
    num = height * width
    if num == 0:
        raise ValueError('cams have no pixels')

    # C⁺: Otsu region of the uint8 CAM, eroded.
    quantized, valid = cam_to_uint8(cams)
    threshold = otsu_threshold(quantized, bins=256)
    threshold = threshold.to(torch.float64).clamp(min=1.0)
    positive = (quantized > threshold[:, None]) & valid[:, None]
    positive = positive.view(batch, 1, height, width).float()
    eroded = _erode(positive, erode_kernel)
    empty = eroded.flatten(1).amax(dim=1) <= 0
    positive = torch.where(empty[:, None, None, None], positive, eroded)
    positive = positive[:, 0] > 0

    # C⁻: the k lowest pixels, random order among equal values.
    k = max(1, int(float(n_neg) * num + 1e-9))
    values = cams.detach().reshape(batch, num)
    shuffle = _rand((batch, num), generator, cams.device).argsort(dim=1)
    shuffled = values.gather(1, shuffle)
    order = shuffled.argsort(dim=1, stable=True)[:, :k]
    lowest = shuffle.gather(1, order)
    negative = torch.zeros(batch, num, dtype=torch.bool, device=cams.device)
    negative.scatter_(1, lowest, True)
    negative &= valid[:, None]
    return positive, negative.view(batch, height, width)


@float32_without_autocast
def sample_pseudo_labels(cams: torch.Tensor,
                         n_neg: float = 0.1,
                         num_pos: int = 1,
                         num_neg: int = 1,
                         erode_kernel: int = 11,
                         seed_size: int = 3,
                         generator: Optional[torch.Generator] = None,
                         ignore_index: int = IGNORE_INDEX) -> torch.Tensor:
    """Partial pseudo-labels ``Y`` on ``Ω'`` (eq. 2) for a batch of CAMs.

    ``num_pos`` pixels are drawn uniformly without replacement from ``C⁺``
    and ``num_neg`` from ``C⁻`` of each image (see :func:`sampling_regions`;
    fewer when a region is smaller); each drawn pixel is grown to a
    ``seed_size × seed_size`` square clipped at the border. Foreground
    squares are labelled 1, background squares 0, pixels covered by both
    and all other pixels ``ignore_index``. An image whose CAM is constant,
    all zero or holds NaN/inf gets no seed (all ``ignore_index``).

    Args:
        cams (Tensor): (B, H, W) CAMs of the target class already resized to
            the image size (any scale; only their order and the min-max
            normalised uint8 map matter). Not differentiated.
        n_neg (float): ``n⁻``, fraction of pixels in ``C⁻``; in (0, 1).
        num_pos, num_neg (int): pixels drawn from ``C⁺`` / ``C⁻`` per image.
        erode_kernel (int): side of the square that erodes ``C⁺`` (odd;
            1 disables erosion).
        seed_size (int): side of the square each drawn pixel grows to (odd).
        generator (torch.Generator, optional): source of randomness; the
            same generator state gives the same seeds.
        ignore_index (int): label of unlabelled pixels.

    Returns:
        Tensor: (B, H, W) int64 labels on ``cams``' device.
    """
    check_seed_cfg(
        dict(n_neg=n_neg, num_pos=num_pos, num_neg=num_neg,
             erode_kernel=erode_kernel, seed_size=seed_size,
             ignore_index=ignore_index))
    positive, negative = sampling_regions(
        cams, n_neg=n_neg, erode_kernel=erode_kernel, generator=generator)
    batch, height, width = positive.shape
    pos_centres = _pick(positive.view(batch, -1), num_pos, generator)
    neg_centres = _pick(negative.view(batch, -1), num_neg, generator)
    pos = _grow(pos_centres.view(batch, 1, height, width).float(), seed_size)
    neg = _grow(neg_centres.view(batch, 1, height, width).float(), seed_size)
    pos, neg = pos[:, 0] > 0, neg[:, 0] > 0
    labels = torch.full((batch, height, width), ignore_index,
                        dtype=torch.long, device=cams.device)
    labels[pos & ~neg] = 1
    labels[neg & ~pos] = 0
    return labels


#: Keyword arguments of :func:`sample_pseudo_labels` a ``seed_cfg`` may set.
SEED_CFG_KEYS = ('n_neg', 'num_pos', 'num_neg', 'erode_kernel', 'seed_size',
                 'ignore_index')


def check_seed_cfg(seed_cfg: dict) -> None:
    """Raise a ``ValueError`` naming the key if ``seed_cfg`` (the keyword
    arguments of :func:`sample_pseudo_labels`, e.g. a model's ``seed_cfg``)
    has an unknown key or an invalid value: ``n_neg`` outside (0, 1),
    negative ``num_pos``/``num_neg``, an even or < 1 ``erode_kernel`` /
    ``seed_size``, or ``ignore_index`` equal to a label (0, 1).

    Seeds are only sampled in stage 2; calling this where the model is
    built reports a bad config before stage 1 trains, not epochs later.
    """
    unknown = sorted(set(seed_cfg) - set(SEED_CFG_KEYS))
    if unknown:
        raise ValueError(f'unknown seed_cfg key(s) {unknown}; the keys are '
                         f'{", ".join(SEED_CFG_KEYS)}')
    if 'n_neg' in seed_cfg:
        _check_n_neg(seed_cfg['n_neg'])
    for name, minimum, odd in (('num_pos', 0, False), ('num_neg', 0, False),
                               ('erode_kernel', 1, True),
                               ('seed_size', 1, True)):
        if name in seed_cfg:
            _check_int(name, seed_cfg[name], minimum, odd=odd)
    if seed_cfg.get('ignore_index') in (0, 1):
        raise ValueError('ignore_index must differ from the labels 0 and 1, '
                         f'got {seed_cfg["ignore_index"]!r}')


__all__ = [
    'check_seed_cfg', 'SEED_CFG_KEYS', 'otsu_threshold', 'cam_to_uint8', 'sampling_regions',
    'sample_pseudo_labels', 'IGNORE_INDEX'
]
