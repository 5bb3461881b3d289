"""Which labelling the dense CRF prefers: the object, or the CAM's region.

F-CAM grows its map beyond the seeds through the unlabelled pixels'
terms, the CRF above all (paper §3, Fig. 1): from seeds in ``C⁺`` the CRF
is meant to pull the map onto the whole object along its colour. It can
only do that where the object's labelling has a lower CRF energy than
the seed region's. For a hard labelling ``l`` (1 = foreground) the energy
of :class:`~fcam_mm.models.losses.DenseCRFLoss` is the weight of the cut::

    R(l) = Σ_t S_tᵀ W (1 − S_t) = Σ_{i, j : l_i ≠ l_j} W_ij

(both orders of every pair), so comparing ``R(O)`` (the GT object mask)
with ``R(C⁺)`` per image says whether the regulariser, on its own, favours
the object over the region the CAM marks (``R(O) < R(C⁺)``) or works
against growing the map into it.
"""
from typing import Dict, List, Mapping

import numpy as np
import torch

from .sampling_regions import sampling_regions
from .seed_quality import cam_batches


def raw_images(data_preprocessor, inputs: torch.Tensor) -> torch.Tensor:
    """Undo a data preprocessor's mean/std normalisation: RGB in 0–255, the
    space the CRF's colour kernel (σ_rgb) is defined in."""
    if getattr(data_preprocessor, '_enable_normalize', False):
        return inputs * data_preprocessor.std + data_preprocessor.mean
    return inputs


def labelling_energy(crf_loss, masks: torch.Tensor,
                     images: torch.Tensor) -> torch.Tensor:
    """``R(l)`` of hard labellings (B, H, W) bool on images (B, 3, H, W),
    0–255, with the σ's, scale and normalisation of ``crf_loss`` (λ not
    applied); (B,) float."""
    foreground = masks.float()[:, None]
    probs = torch.cat([1.0 - foreground, foreground], dim=1)
    return crf_loss.crf_energy(probs, images)


def colour_overlap(images: torch.Tensor, objects: torch.Tensor,
                   distance: float = 30.0) -> torch.Tensor:
    """Share of each image's background pixels whose colour lies within
    ``distance`` (RGB Euclidean, 0–255) of the object's mean colour;
    (B,) float, NaN for an image without object or background pixels.

    With a spatial σ as wide as the image (F-CAM's σ_xy = 100 on a
    224-px input), the dense CRF couples every pair of similar colours
    wherever they are: whether it can carry a map from part of an object
    to the rest of it, and not into the scene, depends on whether the
    object's colours are rare in the background. ``distance`` = 2 σ_rgb
    (30 for F-CAM's σ_rgb = 15) counts the pixels the colour kernel still
    weighs by more than exp(−2) ≈ 0.14.
    """
    pixels = images.permute(0, 2, 3, 1).float()  # B, H, W, 3
    shares = []
    for image, obj in zip(pixels, objects):
        background = ~obj
        if not obj.any() or not background.any():
            shares.append(float('nan'))
            continue
        mean = image[obj].mean(dim=0)
        near = (image[background] - mean).norm(dim=1) < distance
        shares.append(float(near.float().mean()))
    return torch.tensor(shares, dtype=torch.float64)


def summarize_preference(object_energy: np.ndarray,
                         region_energy: np.ndarray) -> Dict[str, float]:
    """Split-level figures from per-image energies (images without a
    ``C⁺`` left out by the caller):

    - ``prefers_object``: share of images with ``R(O) < R(C⁺)``,
    - ``median_ratio``: median over images of ``R(O) / R(C⁺)`` (``inf``
      where ``R(C⁺) = 0``, a region no pixel pair crosses),
    - ``images``: how many images were compared.
    """
    object_energy = np.asarray(object_energy, np.float64)
    region_energy = np.asarray(region_energy, np.float64)
    if object_energy.shape != region_energy.shape:
        raise ValueError('one energy per image in both arrays, got '
                         f'{object_energy.shape} and {region_energy.shape}')
    if object_energy.size == 0:
        return dict(prefers_object=float('nan'),
                    median_ratio=float('nan'), images=0)
    with np.errstate(divide='ignore', invalid='ignore'):
        ratio = np.where(region_energy > 0,
                         object_energy / np.maximum(region_energy, 1e-300),
                         np.inf)
    return dict(prefers_object=float((object_energy < region_energy).mean()),
                median_ratio=float(np.median(ratio)),
                images=int(object_energy.size))


@torch.no_grad()
def measure_crf_preference(model, dataset, crf_losses: Mapping[str, object],
                           erode_kernel: int = 11,
                           batch_size: int = 16,
                           overlap_distance: float = 30.0) -> List[dict]:
    """``R(O)`` vs ``R(C⁺)`` of ``model``'s CAMs on ``dataset``, for each
    CRF loss of ``crf_losses`` (name → :class:`DenseCRFLoss`).

    The frame is the network input, as in training: the CAM of the
    ground-truth class resized bilinearly, ``C⁺`` from
    :func:`sampling_regions` (``erode_kernel`` 1: the Otsu region itself),
    the GT mask resized with nearest (the ignore band counts as
    background), the image de-normalised to 0–255. Images whose CAM gives
    no ``C⁺`` (constant or non-finite) are not compared; their number is
    returned as ``images_without_region``. The model is left in the mode
    it came in.

    Also measured, once for all CRFs: :func:`colour_overlap` of every
    image at ``overlap_distance``.

    Returns:
        one dict per CRF loss: ``name`` and the figures of
        :func:`summarize_preference`, plus ``images_without_region``,
        ``colour_overlap_median`` (median over images of the share of
        background pixels coloured like the object) and
        ``colour_overlap_over_10pct`` (share of images where that share is
        above 10 %).
    """
    was_training = model.training
    model.eval()
    try:
        energies = {name: ([], []) for name in crf_losses}
        without_region = 0
        overlaps = []
        for _, inputs, cams, objects in cam_batches(
                model, dataset, batch_size, 'measure_crf_preference'):
            region, _ = sampling_regions(cams, n_neg=0.1,
                                         erode_kernel=erode_kernel)
            keep = region.flatten(1).any(dim=1)
            without_region += int((~keep).sum())
            overlaps.append(colour_overlap(
                raw_images(model.data_preprocessor, inputs), objects,
                overlap_distance).numpy())
            if not keep.any():
                continue
            images = raw_images(model.data_preprocessor, inputs)[keep]
            for name, crf_loss in crf_losses.items():
                energies[name][0].append(labelling_energy(
                    crf_loss, objects[keep], images).cpu().numpy())
                energies[name][1].append(labelling_energy(
                    crf_loss, region[keep], images).cpu().numpy())
    finally:
        model.train(was_training)

    overlap = np.concatenate(overlaps) if overlaps else np.zeros(0)
    overlap = overlap[np.isfinite(overlap)]
    overlap_summary = dict(
        colour_overlap_median=float(np.median(overlap)) if overlap.size
        else float('nan'),
        colour_overlap_over_10pct=float((overlap > 0.1).mean())
        if overlap.size else float('nan'))
    rows = []
    for name, (object_parts, region_parts) in energies.items():
        summary = summarize_preference(
            np.concatenate(object_parts) if object_parts else np.zeros(0),
            np.concatenate(region_parts) if region_parts else np.zeros(0))
        rows.append(dict(name=name, **summary,
                         images_without_region=without_region,
                         **overlap_summary))
    return rows


__all__ = ['raw_images', 'labelling_energy', 'colour_overlap',
           'summarize_preference', 'measure_crf_preference']
