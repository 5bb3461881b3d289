"""Data samples with maps to draw: a model run over a dataset split (with
its ground truth) or over plain image files, and the tau the protocol
selects on a split."""
import copy
import logging
import os.path as osp
from typing import Dict, Iterator, List, Optional, Sequence

import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.logging import print_log
from mmengine.utils import ProgressBar

from fcam_mm.datasets.image_inputs import LocalizerPipeline, find_images
from fcam_mm.registry import DATASETS, METRICS

IMAGE_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff',
                    '.webp')
SPLITS = ('train', 'val', 'test')


def build_split(cfg: Config, split: str = 'test'):
    """The dataset of ``{split}_dataloader`` in ``cfg`` (its test-time
    pipeline for val / test)."""
    if split not in SPLITS:
        raise ValueError(f'split must be one of {SPLITS}, got {split!r}')
    loader = cfg.get(f'{split}_dataloader')
    if loader is None or 'dataset' not in loader:
        raise KeyError(f'the config has no {split}_dataloader.dataset')
    return DATASETS.build(copy.deepcopy(loader['dataset']))


def expand_image_paths(paths: Sequence[str]) -> List[str]:
    """Image files: a file is taken as it is; a folder (recursively) or a
    glob is listed by :func:`fcam_mm.datasets.image_inputs.find_images` (the
    lister of ``tools/infer.py``) and its files without an image extension
    are skipped — and counted in the log."""
    files = []
    for path in paths:
        found, listing = find_images(path, recursive=True)
        if listing:
            images = [p for p in found
                      if p.lower().endswith(IMAGE_EXTENSIONS)]
            if not images:
                raise FileNotFoundError(
                    f'{path}: no image ({", ".join(IMAGE_EXTENSIONS)}) in it')
            if len(images) < len(found):
                print_log(f'{path}: skipped {len(found) - len(images)} '
                          'file(s) without an image extension',
                          logger='current', level=logging.WARNING)
            found = images
        files += found
    return files


@torch.no_grad()
def predict_items(model, items, batch_size: int = 8) -> Iterator:
    """Run ``model.test_step`` over pipeline outputs (dicts with ``inputs``
    and ``data_samples``), ``batch_size`` at a time; yields the predicted
    data samples in order."""
    batch = []
    for item in items:
        batch.append(item)
        if len(batch) == batch_size:
            yield from model.test_step(pseudo_collate(batch))
            batch = []
    if batch:
        yield from model.test_step(pseudo_collate(batch))


def predict_split(model, dataset, indices: Optional[Sequence[int]] = None,
                  batch_size: int = 8) -> Iterator:
    """Predicted data samples (maps + the dataset's ground truth: boxes,
    mask, label — the GT-known CAM) of ``dataset[i]`` for ``i`` in
    ``indices`` (default: all)."""
    if indices is None:
        indices = range(len(dataset))
    for i in indices:
        if not -len(dataset) <= i < len(dataset):
            raise IndexError(f'index {i} is outside the split of '
                             f'{len(dataset)} images')
    return predict_items(model, (dataset[i] for i in indices), batch_size)


def predict_images(model, paths: Sequence[str],
                   batch_size: int = 8) -> Iterator:
    """Predicted data samples of plain image files (no ground truth: the
    maps are those of the predicted class), with the config's test
    pipeline minus the annotation loading."""
    pipeline = LocalizerPipeline(model.cfg)
    return predict_items(model, (pipeline(pipeline.load(p)) for p in paths),
                         batch_size)


def _evaluator_entries(evaluator) -> List[dict]:
    if evaluator is None:
        return []
    if isinstance(evaluator, dict):
        if 'metrics' in evaluator:
            evaluator = evaluator['metrics']
        else:
            evaluator = [evaluator]
    return [dict(e) for e in evaluator]


def protocol_metrics(cfg: Config, map_keys: Sequence[str],
                     style: str = 'box', split: str = 'val') -> list:
    """One metric per map that selects its tau: the ``{split}_evaluator``'s
    ``BoxLocalizationMetric`` (box style) or ``PixelLocalizationMetric``
    (mask style) of that ``map_key`` with the config's options (eval size,
    normalisation...), or a default one when the config has none."""
    kind = ('PixelLocalizationMetric' if style == 'mask' else
            'BoxLocalizationMetric')
    entries = {}
    for entry in _evaluator_entries(cfg.get(f'{split}_evaluator')):
        key = entry.get('map_key', 'cam')
        if entry.get('type') == kind and key in map_keys:
            entries.setdefault(key, entry)
    metrics = []
    for key in map_keys:
        entry = dict(entries.get(key, dict(type=kind, map_key=key)))
        entry.update(collect_curves=False, out_dir=None, prefix=None)
        if kind == 'BoxLocalizationMetric':
            entry['topk'] = ()  # tau does not depend on the class
        metrics.append(METRICS.build(entry))
    return metrics


def select_thresholds(model, cfg: Config, map_keys: Sequence[str],
                      style: str = 'box', split: str = 'val',
                      batch_size: int = 8,
                      progress: bool = True) -> Dict[str, float]:
    """The tau of each map the protocol selects on ``split``: the first
    tau of the best MaxBoxAcc (box style) or of the best pixel F1 (mask
    style; PxAP itself selects none), evaluated exactly as the metric of the
    config does."""
    dataset = build_split(cfg, split)
    metrics = protocol_metrics(cfg, map_keys, style, split)
    bar = ProgressBar(len(dataset)) if progress else None
    seen = [0] * len(metrics)
    for sample in predict_split(model, dataset, batch_size=batch_size):
        for i, metric in enumerate(metrics):
            if metric.map_key in sample:
                metric.process(None, [sample])
                seen[i] += 1
        if bar is not None:
            bar.update()
    name = 'best_f1_tau' if style == 'mask' else 'best_tau'
    taus = {}
    for metric, count in zip(metrics, seen):
        if count == 0:  # e.g. 'fcam' of a model without a decoder
            continue
        result = metric.evaluate(len(dataset))
        prefixed = f'{metric.prefix}/{name}' if metric.prefix else name
        taus[metric.map_key] = float(result[prefixed])
    return taus


def spread_indices(size: int, num: int) -> List[int]:
    """``num`` indices spread evenly over a split of ``size`` images (first
    and last included), so several classes show up."""
    if size < 1:
        raise ValueError('the split is empty')
    num = max(1, min(int(num), size))
    if num == 1:
        return [0]
    return sorted({round(i * (size - 1) / (num - 1)) for i in range(num)})


def sample_name(sample) -> str:
    """A sample's metadata id, or its file name when it has none."""
    return sample.get('img_id', None) or osp.basename(sample.get('img_path'))


def output_name(sample_or_name) -> str:
    """The PNG name of a sample (or of a :func:`sample_name`): the name
    without extension, folders joined by ``__``."""
    name = (sample_or_name if isinstance(sample_or_name, str) else
            sample_name(sample_or_name))
    return osp.splitext(name)[0].replace('/', '__') + '.png'


def draw_samples(visualizer, samples, out_dir: Optional[str],
                 map_keys: Sequence[str], thresholds,
                 style: str = 'auto', show: bool = False) -> List[str]:
    """Draw each sample (original image read from ``img_path``) with
    :meth:`WSOLVisualizer.add_datasample`; with ``out_dir`` write
    ``{out_dir}/{output_name}``, else send to the visualizer's backends.
    Returns the written paths."""
    import mmcv
    from mmengine.utils import mkdir_or_exist
    if out_dir is not None:
        mkdir_or_exist(out_dir)
    written = []
    for step, sample in enumerate(samples):
        image = mmcv.imread(sample.img_path, channel_order='rgb')
        name = output_name(sample)
        out_file = None if out_dir is None else osp.join(out_dir, name)
        visualizer.add_datasample(
            osp.splitext(name)[0], image, sample, map_keys=map_keys,
            thresholds=thresholds, style=style, show=show,
            out_file=out_file, step=step)
        if out_file is not None:
            written.append(out_file)
    return written
