"""How clean F-CAM's pseudo-labels are: the sampling regions of a
classifier's CAMs measured against ground-truth object masks.

F-CAM's stage 2 learns only from pixels drawn in ``C⁺`` (labelled
foreground) and ``C⁻`` (labelled background), see
:func:`~fcam_mm.models.utils.sampling_regions`. How much of each region
lies on the object bounds what the decoder can learn: a ``C⁻`` that falls
on the object teaches it that the object is background, a ``C⁺`` that
covers only the discriminative part gives no example of the rest.
"""
from typing import Dict, List, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from mmengine.dataset import pseudo_collate

from .sampling_regions import sampling_regions


def region_purity_counts(positive: torch.Tensor, negative: torch.Tensor,
                         objects: torch.Tensor) -> Dict[str, np.ndarray]:
    """Per-image pixel counts of the regions against object masks.

    Args:
        positive, negative (Tensor): (B, H, W) bool, ``C⁺`` and ``C⁻``.
        objects (Tensor): (B, H, W) bool GT object masks in the same frame.

    Returns:
        dict of (B,) int64 arrays: ``pos`` = |C⁺|, ``pos_in`` =
        |C⁺ ∩ O|, ``neg`` = |C⁻|, ``neg_in`` = |C⁻ ∩ O|, ``obj`` = |O|,
        ``pixels`` = H·W.
    """
    if not positive.shape == negative.shape == objects.shape:
        raise ValueError(
            f'regions and masks must have one shape, got '
            f'{tuple(positive.shape)}, {tuple(negative.shape)} and '
            f'{tuple(objects.shape)}')

    def count(x):
        return x.flatten(1).sum(1).cpu().numpy().astype(np.int64)

    return dict(pos=count(positive), pos_in=count(positive & objects),
                neg=count(negative), neg_in=count(negative & objects),
                obj=count(objects),
                pixels=np.full(len(objects), objects[0].numel(), np.int64))


def summarize_purity(counts: Dict[str, np.ndarray]) -> Dict[str, float]:
    """Split-level figures (pixels pooled over the images):

    - ``pos_precision`` = Σ|C⁺ ∩ O| / Σ|C⁺| (share of ``C⁺`` on objects),
    - ``pos_coverage`` = Σ|C⁺ ∩ O| / Σ|O| (share of objects in ``C⁺``),
    - ``pos_coverage_image_mean`` / ``_median``: the mean / median over
      images (with an object) of |C⁺ ∩ O| / |O|,
    - ``neg_error`` = Σ|C⁻ ∩ O| / Σ|C⁻| (share of ``C⁻`` on objects),
    - ``neg_error_images`` = share of images with some ``C⁻`` on the
      object,
    - ``object_fraction`` = Σ|O| / (number of pixels), for scale: a ``C⁻``
      drawn uniformly at random would have ``neg_error`` about this.
    """
    def ratio(a, b):
        return float(a.sum()) / max(float(b.sum()), 1.0)

    with_object = counts['obj'] > 0
    per_image = (counts['pos_in'][with_object] /
                 counts['obj'][with_object].astype(np.float64))
    return dict(pos_precision=ratio(counts['pos_in'], counts['pos']),
                pos_coverage=ratio(counts['pos_in'], counts['obj']),
                pos_coverage_image_mean=float(per_image.mean())
                if per_image.size else float('nan'),
                pos_coverage_image_median=float(np.median(per_image))
                if per_image.size else float('nan'),
                neg_error=ratio(counts['neg_in'], counts['neg']),
                neg_error_images=float((counts['neg_in'] > 0).mean()),
                object_fraction=float(counts['obj'].sum()) /
                float(counts['pixels'].sum()))


@torch.no_grad()
def measure_seed_quality(model, dataset, n_neg_values: Sequence[float],
                         erode_kernel: int = 11,
                         batch_size: int = 16) -> List[dict]:
    """Sampling regions of ``model``'s CAMs on ``dataset`` vs its GT masks.

    The CAM of the ground-truth class is resized to the network input
    (bilinear) exactly as ``FCAMLocalizer`` does before sampling seeds, and
    each GT mask (original frame; 1 = object, the ignore band counts as
    background) is resized to the input with nearest interpolation. The
    dataset must carry masks (a val / test split with ``mask_file``). The
    model is evaluated in eval mode and left in the mode it came in.

    Returns:
        one dict per ``n⁻``: ``n_neg`` and the figures of
        :func:`summarize_purity`.
    """
    was_training = model.training
    model.eval()
    try:
        return _measure(model, dataset, n_neg_values, erode_kernel,
                        batch_size)
    finally:
        model.train(was_training)


def cam_batches(model, dataset, batch_size: int, caller: str):
    """Yield ``(start, inputs, cams, objects)`` over ``dataset`` in batches
    of ``batch_size``, in the frame of the network input: ``inputs`` as the
    data preprocessor gives them, ``cams`` (B, H, W) the CAM of the
    ground-truth class resized bilinearly (as ``FCAMLocalizer`` does before
    sampling seeds), ``objects`` (B, H, W) bool the GT masks resized with
    nearest (the ignore band counts as background). ``caller`` names the
    function in the error raised for a split without masks."""
    device = next(model.parameters()).device
    for start in range(0, len(dataset), batch_size):
        items = [dataset[i] for i in
                 range(start, min(start + batch_size, len(dataset)))]
        data = model.data_preprocessor(pseudo_collate(items), False)
        inputs, samples = data['inputs'], data['data_samples']
        if any('gt_mask' not in s for s in samples):
            raise KeyError(f'{caller} needs GT masks: use a split whose '
                           'dataset has mask_file set')
        labels = torch.cat([s.gt_label for s in samples]).to(device)
        size = inputs.shape[-2:]
        cams, _ = model.cam(model, inputs, labels)
        cams = F.interpolate(cams[:, None].float(), size=size,
                             mode='bilinear', align_corners=False)[:, 0]
        objects = torch.stack([
            F.interpolate(torch.as_tensor(np.asarray(s.gt_mask) == 1)
                          .float()[None, None], size=size,
                          mode='nearest')[0, 0] > 0 for s in samples
        ]).to(device)
        yield start, inputs, cams, objects


def _measure(model, dataset, n_neg_values, erode_kernel, batch_size):
    device = next(model.parameters()).device
    totals = {n: None for n in n_neg_values}
    for start, _, cams, objects in cam_batches(model, dataset, batch_size,
                                               'measure_seed_quality'):
        for n_neg in n_neg_values:
            generator = torch.Generator(device=device).manual_seed(start)
            positive, negative = sampling_regions(
                cams, n_neg=n_neg, erode_kernel=erode_kernel,
                generator=generator)
            counts = region_purity_counts(positive, negative, objects)
            if totals[n_neg] is None:
                totals[n_neg] = counts
            else:
                totals[n_neg] = {k: np.concatenate([totals[n_neg][k], v])
                                 for k, v in counts.items()}
    return [dict(n_neg=n, **summarize_purity(totals[n]))
            for n in n_neg_values]


__all__ = ['region_purity_counts', 'summarize_purity', 'measure_seed_quality',
           'cam_batches']
