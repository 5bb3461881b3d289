"""Localize an image, a folder or a glob: overlay PNGs and one JSON(L)
file of predictions (classes, scores, box, mask as COCO RLE).

What ``tools/infer.py`` runs; the per-image work is
:func:`fcam_mm.apis.inference_localizer`'s.
"""
import logging
import json
import os
import os.path as osp
from dataclasses import dataclass, field
from typing import List, Optional, Sequence, Tuple

import mmcv
import numpy as np
import torch
from mmengine.dataset import pseudo_collate
from mmengine.logging import print_log
from mmengine.utils import ProgressBar
from pycocotools import mask as mask_utils

from fcam_mm.datasets.image_inputs import (DEFAULT_MAX_PIXELS,
                                           ImageLoadError, LocalizerPipeline,
                                           find_images, list_images)
from .inference import predictions_to_results

__all__ = [
    'localize_images', 'InferenceSummary', 'prediction_record',
    'encode_mask', 'overlay_names', 'write_records', 'find_images',
    'list_images', 'DEFAULT_MAX_PIXELS'
]


def encode_mask(mask: np.ndarray) -> dict:
    """A binary (H, W) mask as COCO RLE: ``{'size': [H, W], 'counts':
    str}`` (``pycocotools.mask.decode`` inverts it)."""
    rle = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
    return dict(size=[int(v) for v in rle['size']],
                counts=rle['counts'].decode('ascii'))


def prediction_record(image: str, result: dict, threshold: float) -> dict:
    """One image's prediction as plain JSON values."""
    height, width = result['mask'].shape
    topk = []
    for i, (label, score) in enumerate(
            zip(result['topk_labels'], result['topk_scores'])):
        item = dict(label=int(label), score=float(score))
        if 'topk_classes' in result:
            item['class'] = result['topk_classes'][i]
        topk.append(item)
    record = dict(
        image=image,
        height=int(height),
        width=int(width),
        pred_label=result['pred_label'],
        pred_score=result['pred_score'],
        topk=topk,
        map=result['map_key'],
        threshold=float(threshold),
        box=[int(v) for v in result['box']],
        mask=encode_mask(result['mask']))
    if 'pred_class' in result:
        record['pred_class'] = result['pred_class']
    return record


def overlay_names(files: Sequence[str]) -> List[str]:
    """``<path relative to the files' common folder>.png`` for each file,
    so that same-named images in different folders stay apart."""
    if not files:
        return []
    root = osp.commonpath([osp.dirname(osp.abspath(f)) for f in files])
    return [osp.splitext(osp.relpath(osp.abspath(f), root))[0] + '.png'
            for f in files]


@dataclass
class InferenceSummary:
    """What :func:`localize_images` did: ``records`` (one per localized
    image, as written to ``out_file``) and ``skipped`` (path, message
    naming the path and the reason), sorted by path."""
    records: List[dict] = field(default_factory=list)
    skipped: List[Tuple[str, str]] = field(default_factory=list)
    out_file: Optional[str] = None
    overlay_dir: Optional[str] = None


def write_records(records: List[dict], out_file: str) -> None:
    """``.jsonl``: one record per line; otherwise one JSON list."""
    os.makedirs(osp.dirname(osp.abspath(out_file)), exist_ok=True)
    with open(out_file, 'w') as f:
        if out_file.endswith('.jsonl'):
            for record in records:
                f.write(json.dumps(record) + '\n')
        else:
            json.dump(records, f)


@torch.no_grad()
def localize_images(model,
                    source: str,
                    out_file: Optional[str] = None,
                    overlay_dir: Optional[str] = None,
                    batch_size: int = 8,
                    threshold: float = 0.5,
                    topk: int = 5,
                    recursive: bool = False,
                    progress: bool = True,
                    max_pixels: Optional[int] = DEFAULT_MAX_PIXELS
                    ) -> InferenceSummary:
    """Run ``model`` on the images ``source`` names (:func:`find_images`),
    ``batch_size`` at a time.

    Writes ``out_file`` (``.jsonl`` or ``.json``; see
    :func:`prediction_record`) and, with ``overlay_dir``, one PNG per image
    (``WSOLVisualizer``: each map over the image and its box at
    ``threshold``).

    Inputs are untrusted (:mod:`fcam_mm.datasets.image_inputs`): in a
    folder or glob, each entry that cannot be localized — a symlink loop,
    a broken symlink, a FIFO or device, a file that is not an image (by
    its content, whatever its extension), an image whose header declares
    more than ``max_pixels`` pixels (refused before decoding; ``None``:
    no cap) — gets one warning naming it and why, is skipped and is listed
    in ``summary.skipped``; the others are localized, and the last log
    line counts both. A single named file that is not a readable image
    raises :class:`ImageLoadError` (:class:`~fcam_mm.datasets.
    image_inputs.ImageTooLargeError` over the cap): the caller asked for
    that one image.
    """
    if batch_size < 1:
        raise ValueError(f'batch_size must be >= 1, got {batch_size}')
    found = list_images(source, recursive)
    files, listing = found.files, found.listing
    pipeline = LocalizerPipeline(model.cfg, max_pixels=max_pixels)
    classes = model.dataset_meta.get('classes')
    summary = InferenceSummary(out_file=out_file, overlay_dir=overlay_dir)
    visualizer = None
    if overlay_dir is not None:
        from fcam_mm.visualization import WSOLVisualizer
        visualizer = WSOLVisualizer(name=f'fcam_mm-infer-{id(summary)}')
        map_keys = ('cam', 'fcam') if hasattr(model, 'decoder') else (
            'cam', )
    names = dict(zip(files, overlay_names(files)))

    def skip(path, message):
        summary.skipped.append((path, message))
        print_log(f'skipped {message}', logger='current',
                  level=logging.WARNING)

    for path, reason in found.skipped:
        skip(path, f'{path}: {reason}')
    bar = ProgressBar(len(files)) if progress and listing else None

    def run(batch):
        samples = model.test_step(
            pseudo_collate([pipeline(item) for _, item in batch]))
        results = predictions_to_results(samples, classes, topk, threshold)
        for (path, item), sample, result in zip(batch, samples, results):
            summary.records.append(prediction_record(path, result, threshold))
            if visualizer is not None:
                out = osp.join(overlay_dir, names[path])
                os.makedirs(osp.dirname(out), exist_ok=True)
                visualizer.add_datasample(
                    path, mmcv.bgr2rgb(item['img']), sample,
                    map_keys=map_keys, thresholds=threshold, out_file=out)

    batch = []
    for path in files:
        try:
            batch.append((path, pipeline.load(path)))
        except ImageLoadError as e:
            if not listing:
                raise
            skip(path, str(e))
        if len(batch) == batch_size:
            run(batch)
            batch = []
        if bar is not None:
            bar.update()
    if batch:
        run(batch)
    if out_file is not None:
        write_records(summary.records, out_file)
    summary.skipped.sort()
    print_log(
        f'{len(summary.records)} images localized, {len(summary.skipped)} '
        f'skipped of {len(files) + len(found.skipped)} entries from '
        f'{source}' + (f'; predictions: {out_file}' if out_file else '') +
        skipped_note(summary.skipped), logger='current')
    return summary


def skipped_note(skipped: Sequence[Tuple[str, str]], limit: int = 10
                 ) -> str:
    """``'; skipped: a, b, ...'`` (each also had its warning), or ''."""
    if not skipped:
        return ''
    names = [path for path, _ in skipped]
    more = len(names) - limit
    return '; skipped: ' + ', '.join(names[:limit]) + (
        f' and {more} more (see the warnings)' if more > 0 else '')
