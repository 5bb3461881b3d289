"""Write a synthetic dataset of any preset in the wsolevaluation layout.

:func:`generate_synthetic_dataset` renders every image with the chosen
preset's ``render_sample`` and writes images, masks, metadata and a
README.txt; it returns a summary. Nothing here depends on what a preset
draws: the writer uses only the :class:`~.base.Preset` contract.

Arguments that every preset shares
----------------------------------
``seed`` (0)
    base seed of every per-image generator.
``num_classes`` (the preset's default: parts_hard 10, cub_like 12)
    1..the preset's ``max_classes(knobs)``; class ``k`` is the preset's
    ``class_names(num_classes, knobs)[k]``.
``per_class`` (train=80, val=10, test=30)
    images per class and split; labels are interleaved
    (``index % num_classes``), so every class gets exactly that many.
``preset`` ('parts_hard')
    which registered preset draws the images (:mod:`.presets`).
``jpeg_quality`` (95)
    quality of the written JPEG images.
``save_part_masks`` (False)
    also write ``{split}_{i:05d}_part.png`` next to each mask (the
    preset's ``part_mask``, e.g. the discriminative part, for analysis of
    where CAMs land); not part of the wsolevaluation layout.
``overwrite`` (False)
    replace a previous output in ``out_dir`` (only the generator's own
    ``images/ masks/ metadata/ README.txt`` are removed).
``**knobs``
    fields of the preset's knobs dataclass.

Determinism
-----------
Every image has its own ``np.random.Generator`` seeded from
``np.random.SeedSequence(seed, spawn_key=(split_id, index))``
(:func:`~.base.image_rng`), so images do not depend on generation order
and a subset is stable: generating 40 images per class gives the first
40x``num_classes`` images of a run with 80 per class, byte for byte. The
label of image ``index`` is ``index % num_classes``. Same preset, seed and
knobs ⇒ byte-identical files (on the same numpy/OpenCV build; JPEG and PNG
encoders are deterministic).

Layout (``OUT = out_dir``)
--------------------------
::

    OUT/images/{split}/{label:02d}/{split}_{i:05d}.jpg
    OUT/masks/{split}/{label:02d}/{split}_{i:05d}_mask.png    255 = object
    OUT/masks/{split}/{label:02d}/{split}_{i:05d}_ignore.png  255 = ignore
    OUT/metadata/{split}/image_ids.txt          path
    OUT/metadata/{split}/class_labels.txt       path,label
    OUT/metadata/{split}/image_sizes.txt        path,W,H
    OUT/metadata/{split}/localization.txt       path,x0,y0,x1,y1
    OUT/metadata/{split}/localization_mask.txt  path,mask_png,ignore_png
    OUT/metadata/class_names.txt
    OUT/README.txt                              (written last)
"""
import os
import os.path as osp
import shutil
import time
from dataclasses import asdict
from numbers import Real
from typing import Dict, List, Optional

import cv2
import numpy as np

from ..file_writing import imwrite, write_lines
from .base import SPLITS, Preset, distribution
from .presets import DEFAULT_PRESET, get_preset

__all__ = [
    'DEFAULT_PER_CLASS', 'generate_synthetic_dataset', 'cli_command',
    'summarize_stats', 'imwrite', 'identity_lines'
]

DEFAULT_PER_CLASS = dict(train=80, val=10, test=30)
_OUTPUTS = ('images', 'masks', 'metadata', 'README.txt')
_WRITER_ARGUMENTS = ('preset', 'jpeg_quality', 'save_part_masks',
                     'overwrite')


def _check_per_class(per_class) -> Dict[str, int]:
    if per_class is None:
        return dict(DEFAULT_PER_CLASS)
    if not isinstance(per_class, dict):
        raise TypeError(f'per_class must be a dict like {DEFAULT_PER_CLASS}, '
                        f'got {per_class!r}')
    unknown = set(per_class) - set(SPLITS)
    if unknown:
        raise ValueError(f'per_class has unknown split(s) {sorted(unknown)};'
                         f' splits are {SPLITS}')
    counts = dict(DEFAULT_PER_CLASS, **per_class)
    for split, count in counts.items():
        if (not isinstance(count, (int, np.integer)) or isinstance(count, bool)
                or count <= 0):
            raise ValueError(f'per_class[{split!r}] must be a positive int, '
                             f'got {count!r}')
    return {split: int(counts[split]) for split in SPLITS}


def _check_class_names(preset: Preset, num_classes, knobs) -> List[str]:
    """The class names, after the preset's own check of ``num_classes``
    (which says why a number is too large) and a generic one (so a preset
    that forgets to check cannot write a dataset with missing names)."""
    if (not isinstance(num_classes, (int, np.integer))
            or isinstance(num_classes, bool)):
        raise TypeError(f'num_classes must be an int, got {num_classes!r}')
    names = list(preset.class_names(num_classes, knobs))
    most = preset.max_classes(knobs)
    if not 1 <= num_classes <= most:
        raise ValueError(f'num_classes must be in [1, {most}] for preset '
                         f'{preset.name!r} with these knobs, got '
                         f'{num_classes}')
    if len(names) != num_classes or len(set(names)) != num_classes:
        raise ValueError(f'preset {preset.name!r} gave {len(names)} class '
                         f'names ({len(set(names))} distinct) for '
                         f'{num_classes} classes')
    return names


def _prepare_out_dir(out_dir, overwrite):
    existing = [name for name in _OUTPUTS if osp.exists(osp.join(out_dir,
                                                                 name))]
    if existing and not overwrite:
        raise FileExistsError(
            f'{out_dir} already holds generated data ({", ".join(existing)}); '
            'pass overwrite=True (CLI: --overwrite) to replace it')
    for name in existing:
        path = osp.join(out_dir, name)
        if osp.isdir(path):
            shutil.rmtree(path)
        else:
            os.remove(path)
    os.makedirs(out_dir, exist_ok=True)


def identity_lines(preset: Preset, seed: int, num_classes: int,
                   per_class: Dict[str, int]) -> List[str]:
    """The README.txt lines that say which dataset a folder holds: the
    generator version, preset, seed, classes and images per class."""
    return [
        f'generator: fcam_mm.datasets.synthetic version {preset.version}',
        f'preset: {preset.name}',
        f'seed: {seed}',
        f'num_classes: {num_classes}',
        'images per class: ' + ', '.join(f'{s}={per_class[s]}'
                                         for s in SPLITS),
    ]


def _literal(value):
    if isinstance(value, tuple):
        return '(' + ','.join(repr(v) for v in value) + ')'
    return repr(value)


def cli_command(seed, num_classes, per_class, knobs, jpeg_quality,
                save_part_masks, preset: str = DEFAULT_PRESET) -> str:
    """The make_synthetic.py command that reproduces a generation: knobs
    that differ from their class's defaults become ``--option`` flags."""
    parts = ['python tools/dataset_converters/make_synthetic.py OUT',
             f'--preset {preset}', f'--seed {seed}',
             f'--num-classes {num_classes}']
    parts += [f'--{split}-per-class {per_class[split]}' for split in SPLITS]
    defaults = asdict(type(knobs)())
    for name, value in asdict(knobs).items():
        if value != defaults[name]:
            parts.append(f'--option {name}={_literal(value)}')
    if jpeg_quality != 95:
        parts.append(f'--option jpeg_quality={jpeg_quality}')
    if save_part_masks:
        parts.append('--option save_part_masks=True')
    return ' '.join(parts)


def _is_number(value):
    return isinstance(value, (Real, np.number, np.bool_))


def summarize_stats(all_stats: List[dict]) -> Dict[str, dict]:
    """``{name: distribution}`` of every numeric entry (bools and ints
    included) that all ``stats`` dicts have, in the first one's order;
    other entries are left out."""
    if not all_stats:
        return {}
    names = [name for name in all_stats[0]
             if all(name in s and _is_number(s[name]) for s in all_stats)]
    return {name: distribution([s[name] for s in all_stats])
            for name in names}


def generate_synthetic_dataset(out_dir: str,
                               seed: int = 0,
                               num_classes: Optional[int] = None,
                               per_class: Optional[Dict[str, int]] = None,
                               *,
                               preset: str = DEFAULT_PRESET,
                               jpeg_quality: int = 95,
                               save_part_masks: bool = False,
                               overwrite: bool = False,
                               **knobs) -> dict:
    """Write a synthetic WSOL dataset to ``out_dir``; return a summary.

    Args:
        out_dir: output folder (created; may exist if it holds no previous
            output, unless ``overwrite``).
        seed: base seed; same preset, seed and knobs give byte-identical
            files.
        num_classes: 1..the preset's maximum (30 for ``parts_hard`` with
            one body family); ``None``: the preset's
            ``default_num_classes`` (parts_hard 10, cub_like 12).
        per_class: images per class for each split, e.g.
            ``dict(train=80, val=10, test=30)`` (missing splits get those
            defaults).
        preset: a registered preset (``presets.preset_names()``).
        jpeg_quality: JPEG quality of the images (1-100).
        save_part_masks: also write ``*_part.png`` (the preset's part mask).
        overwrite: replace an earlier output in ``out_dir``.
        **knobs: fields of the preset's knobs class (for ``parts_hard``,
            :class:`~.parts_hard.SyntheticKnobs`).

    Returns:
        dict with ``out_dir``, ``preset``, ``version``, ``seed``,
        ``num_classes``, ``class_names``, ``counts`` (images per split),
        ``image_width``/``image_height`` (min, max), ``stats`` (the
        distribution, min/p05/.../max/mean, of every numeric statistic the
        preset's ``render_sample`` returns), the preset's own summary
        entries (``parts_hard``: distributions of
        ``object_area_fraction``, ``part_fraction_of_object`` and
        ``body_contrast``, ``touches_border_fraction``,
        ``mean_distractors``, ``decoy_image_fraction``) and ``seconds``.

    Raises:
        ValueError: an unknown preset (naming the registered ones) or an
            out-of-range argument; TypeError: an unknown knob (naming the
            preset's knobs). Nothing is written before these checks.
    """
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) \
            or seed < 0:
        raise ValueError(f'seed must be a non-negative int, got {seed!r}')
    chosen = get_preset(preset)
    if num_classes is None:
        num_classes = chosen.default_num_classes
    counts_per_class = _check_per_class(per_class)
    knob_names = chosen.knob_names()
    unknown = set(knobs) - set(knob_names)
    if unknown:
        raise TypeError(
            f'unknown knob(s) {sorted(unknown)} for preset {chosen.name!r};'
            f' its knobs are {knob_names} plus '
            f'{", ".join(_WRITER_ARGUMENTS)}')
    knob_values = chosen.knobs(**knobs)
    names = _check_class_names(chosen, num_classes, knob_values)
    if (not isinstance(jpeg_quality, (int, np.integer))
            or not 1 <= jpeg_quality <= 100):
        raise ValueError(f'jpeg_quality must be an int in [1, 100], got '
                         f'{jpeg_quality!r}')
    start = time.perf_counter()
    _prepare_out_dir(out_dir, overwrite)
    jpeg_params = (cv2.IMWRITE_JPEG_QUALITY, int(jpeg_quality))

    all_stats, widths, heights, counts = [], [], [], {}
    for split in SPLITS:
        num_images = counts_per_class[split] * num_classes
        counts[split] = num_images
        ids, labels, sizes, boxes, masks = [], [], [], [], []
        for index in range(num_images):
            label = index % num_classes
            sample = chosen.render_sample(seed, split, index, label,
                                          knob_values)
            stem = f'{split}/{label:02d}/{split}_{index:05d}'
            image_id = f'{stem}.jpg'
            height, width = sample['object_mask'].shape
            image_path = osp.join(out_dir, 'images', image_id)
            mask_dir = osp.join(out_dir, 'masks', split, f'{label:02d}')
            os.makedirs(osp.dirname(image_path), exist_ok=True)
            os.makedirs(mask_dir, exist_ok=True)
            imwrite(image_path, cv2.cvtColor(sample['image'],
                                             cv2.COLOR_RGB2BGR), jpeg_params)
            imwrite(osp.join(out_dir, 'masks', f'{stem}_mask.png'),
                    sample['object_mask'].astype(np.uint8) * 255)
            imwrite(osp.join(out_dir, 'masks', f'{stem}_ignore.png'),
                    sample['ignore_mask'].astype(np.uint8) * 255)
            if save_part_masks:
                imwrite(osp.join(out_dir, 'masks', f'{stem}_part.png'),
                        sample['part_mask'].astype(np.uint8) * 255)
            x0, y0, x1, y1 = sample['box']
            ids.append(image_id)
            labels.append(f'{image_id},{label}')
            sizes.append(f'{image_id},{width},{height}')
            boxes.append(f'{image_id},{x0},{y0},{x1},{y1}')
            masks.append(f'{image_id},{stem}_mask.png,{stem}_ignore.png')
            widths.append(width)
            heights.append(height)
            all_stats.append(sample['stats'])
        folder = osp.join(out_dir, 'metadata', split)
        write_lines(osp.join(folder, 'image_ids.txt'), ids)
        write_lines(osp.join(folder, 'class_labels.txt'), labels)
        write_lines(osp.join(folder, 'image_sizes.txt'), sizes)
        write_lines(osp.join(folder, 'localization.txt'), boxes)
        write_lines(osp.join(folder, 'localization_mask.txt'), masks)
    write_lines(osp.join(out_dir, 'metadata', 'class_names.txt'), names)

    knob_lines = [f'  {name} = {_literal(value)}'
                  for name, value in asdict(knob_values).items()]
    readme = [
        'fcam_mm synthetic WSOL dataset',
    ] + identity_lines(chosen, seed, num_classes, counts_per_class) + [
        f'jpeg_quality: {jpeg_quality}',
        f'save_part_masks: {save_part_masks}',
        'knobs:',
    ] + knob_lines + [
        'command (OUT = this folder):',
        '  ' + cli_command(seed, num_classes, counts_per_class, knob_values,
                           jpeg_quality, save_part_masks, chosen.name),
        'layout: images/ masks/ metadata/{train,val,test}/ '
        '(wsolevaluation format; localization.txt = boxes, '
        'localization_mask.txt = masks); see docs/synthetic_dataset.md',
    ]
    write_lines(osp.join(out_dir, 'README.txt'), readme)  # last: complete

    summary = dict(
        out_dir=out_dir,
        preset=chosen.name,
        version=chosen.version,
        seed=int(seed),
        num_classes=int(num_classes),
        class_names=names,
        counts=counts,
        image_width=(int(min(widths)), int(max(widths))),
        image_height=(int(min(heights)), int(max(heights))),
        stats=summarize_stats(all_stats))
    if chosen.summarize is not None:
        extra = chosen.summarize(all_stats)
        clashes = sorted(set(extra) & set(summary))
        if clashes:
            raise ValueError(f'preset {chosen.name!r}: summarize() returned '
                             f'reserved summary key(s) {clashes}')
        summary.update(extra)
    summary['seconds'] = round(time.perf_counter() - start, 2)
    return summary
