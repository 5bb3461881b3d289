"""CUB-200-2011 (the official release) to the WSOL metadata fcam_mm reads.

``python tools/dataset_converters/cub.py CUB_200_2011 [--out-dir DIR]
[--val-metadata CUBV2/metadata/val] [--val-per-class 5] [--seed 0]
[--segmentations SEGMENTATIONS_DIR]``

Reads ``images.txt``, ``image_class_labels.txt``, ``train_test_split.txt``,
``bounding_boxes.txt`` and ``classes.txt`` of the extracted release and
writes ``DIR/metadata/{train,val,test}/`` (default ``DIR``: the release
folder itself, whose ``images/`` is then the ``data_prefix`` of
``configs/_base_/datasets/cub.py``) and ``DIR/metadata/README.txt``.

- Boxes: CUB's float ``x y w h`` become the inclusive integer box
  ``floor(x), floor(y), ceil(x + w) - 1, ceil(y + h) - 1`` (the convention
  of docs/datasets.md, as for COCO), clipped to the image.
- Val: with ``--val-metadata``, CUBV2's own metadata (Choe et al.'s
  ``train-fullsup``: images collected apart from CUB, which go under
  ``images/`` with the paths it lists) is copied, and train is the whole
  official training split; otherwise a seeded, class-balanced slice of
  train, ``--val-per-class`` images per class, removed from train — not
  CUBV2, and README.txt says so.
- Masks (``--segmentations``, the separate segmentation release): each
  grey PNG (the share of annotators who marked the pixel) is binarised at
  128 (a majority) into ``DIR/masks/<path>.png`` and listed in
  ``localization_mask.txt``.
- Image sizes: read from the file headers, as the loader decodes the image
  (EXIF orientation applied; ``fcam_mm.datasets.conversion.image_size``).
Every malformed line is an error naming its file and line.
"""
import argparse
import math
import os
import os.path as osp
import sys
from collections import defaultdict

import numpy as np

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, REPO)
from fcam_mm.datasets.conversion import (ConversionError,  # noqa: E402
                                         copy_val_metadata, image_size)
from fcam_mm.datasets.file_writing import imwrite, write_lines  # noqa: E402

SPLITS = ('train', 'val', 'test')


class CUBFormatError(ConversionError):
    """A line of the release that is not what its file should hold."""


def read_table(path, fields, types):
    """``{image_id: values}`` of a space-separated file of the release."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'{path}: missing (is this the extracted '
                                'CUB_200_2011 folder?)')
    rows = {}
    with open(path, encoding='utf-8') as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            parts = line.split()
            if len(parts) != fields + 1:
                raise CUBFormatError(
                    f'{path}:{number}: expected {fields + 1} fields, got '
                    f'{len(parts)}: {line.strip()!r}')
            try:
                key = int(parts[0])
                values = [kind(v) for kind, v in zip(types, parts[1:])]
            except ValueError as e:
                raise CUBFormatError(f'{path}:{number}: {e}: '
                                     f'{line.strip()!r}') from None
            if key in rows:
                raise CUBFormatError(f'{path}:{number}: image id {key} '
                                     'listed twice')
            rows[key] = values
    return rows


def inclusive_box(x, y, w, h, width, height):
    """CUB's float box as inclusive integer pixels, clipped to the image."""
    x0, y0 = max(0, math.floor(x)), max(0, math.floor(y))
    x1 = min(width - 1, math.ceil(x + w) - 1)
    y1 = min(height - 1, math.ceil(y + h) - 1)
    return x0, y0, max(x0, x1), max(y0, y1)


def split_ids(is_train, labels, val_ids=None, per_class=5, seed=0):
    """train / val / test image ids; val from ``val_ids`` or ``per_class``
    seeded images of each class of the training split."""
    train = sorted(i for i, (flag, ) in is_train.items() if flag == 1)
    test = sorted(i for i, (flag, ) in is_train.items() if flag == 0)
    if val_ids is None:
        by_class = defaultdict(list)
        for i in train:
            by_class[labels[i][0]].append(i)
        rng = np.random.default_rng(seed)
        val_ids = []
        for label in sorted(by_class):
            members = by_class[label]
            if len(members) <= per_class:
                raise CUBFormatError(
                    f'class {label} has {len(members)} training images, '
                    f'not more than --val-per-class {per_class}')
            val_ids += [members[k] for k in
                        rng.choice(len(members), per_class, replace=False)]
    val = sorted(set(val_ids))
    held_out = set(val)
    return dict(train=[i for i in train if i not in held_out], val=val,
                test=test)


def convert(root, out_dir=None, val_metadata=None, val_per_class=5, seed=0,
            segmentations=None):
    out_dir = out_dir or root
    images = read_table(osp.join(root, 'images.txt'), 1, [str])
    labels = read_table(osp.join(root, 'image_class_labels.txt'), 1, [int])
    is_train = read_table(osp.join(root, 'train_test_split.txt'), 1, [int])
    boxes = read_table(osp.join(root, 'bounding_boxes.txt'), 4, [float] * 4)
    classes = read_table(osp.join(root, 'classes.txt'), 1, [str])
    for name, table in (('image_class_labels.txt', labels),
                        ('train_test_split.txt', is_train),
                        ('bounding_boxes.txt', boxes)):
        missing = sorted(set(images) - set(table))
        if missing:
            raise CUBFormatError(f'{osp.join(root, name)}: no line for image '
                                 f'id {missing[0]} ({len(missing)} missing)')
    for i, (label, ) in labels.items():
        if label not in classes:
            raise CUBFormatError(f'{osp.join(root, "image_class_labels.txt")}'
                                 f': image id {i} has class {label}, not in '
                                 'classes.txt')
    splits = split_ids(is_train, labels, [] if val_metadata else None,
                       val_per_class, seed)
    counts = {}
    if val_metadata:
        counts['val'] = copy_val_metadata(
            val_metadata, osp.join(out_dir, 'metadata', 'val'), 'CUBV2',
            CUBFormatError, len(classes))
    class_ids = sorted(classes)
    index = {c: k for k, c in enumerate(class_ids)}
    for split in SPLITS:
        if split in counts:
            continue
        ids, lines = splits[split], defaultdict(list)
        counts[split] = len(ids)
        for i in ids:
            path = images[i][0]
            width, height = image_size(osp.join(root, 'images', path),
                                       CUBFormatError)
            lines['image_ids'].append(path)
            lines['class_labels'].append(f'{path},{index[labels[i][0]]}')
            lines['image_sizes'].append(f'{path},{width},{height}')
            box = inclusive_box(*boxes[i], width, height)
            lines['localization'].append(f'{path},' + ','.join(map(str, box)))
            if segmentations:
                mask = osp.splitext(path)[0] + '.png'
                binarise(osp.join(segmentations, mask),
                         osp.join(out_dir, 'masks', mask), (height, width))
                lines['localization_mask'].append(f'{path},{mask},')
        for name, content in lines.items():
            write_lines(osp.join(out_dir, 'metadata', split, f'{name}.txt'),
                        content)
    write_lines(osp.join(out_dir, 'metadata', 'class_names.txt'),
                [classes[c][0] for c in class_ids])
    val_source = (f'CUBV2, its metadata copied from {val_metadata}'
                  if val_metadata
                  else f'NOT CUBV2: {val_per_class} images per class drawn '
                  f'from the official training split (seed {seed}), removed '
                  'from train')
    write_lines(osp.join(out_dir, 'metadata', 'README.txt'), [
        f'CUB-200-2011 metadata written by tools/dataset_converters/cub.py '
        f'from {osp.abspath(root)}',
        'train / test: the official train_test_split.txt',
        f'val: {val_source}',
        'boxes: floor(x), floor(y), ceil(x+w)-1, ceil(y+h)-1 (inclusive '
        'pixels), clipped to the image',
        'masks: ' + ('segmentation PNGs binarised at 128 (a majority of '
                     'annotators)' if segmentations else 'none'),
    ] + [f'{s}: {counts[s]} images' for s in SPLITS])
    return {s: counts[s] for s in SPLITS}


def binarise(source, target, shape):
    import cv2
    grey = cv2.imread(source, cv2.IMREAD_GRAYSCALE)
    if grey is None:
        raise CUBFormatError(f'{source}: missing or not a readable PNG')
    if grey.shape != shape:
        raise CUBFormatError(f'{source}: {grey.shape[1]}x{grey.shape[0]}, '
                             f'but its image is {shape[1]}x{shape[0]}')
    os.makedirs(osp.dirname(target), exist_ok=True)
    imwrite(target, np.where(grey >= 128, 255, 0).astype(np.uint8))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('root', help='the extracted CUB_200_2011 folder')
    parser.add_argument('--out-dir', help='default: ROOT')
    parser.add_argument('--val-metadata',
                        help="CUBV2's metadata/val folder")
    parser.add_argument('--val-per-class', type=int, default=5)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--segmentations',
                        help='the extracted segmentations/ folder')
    args = parser.parse_args(argv)
    counts = convert(args.root, args.out_dir, args.val_metadata,
                     args.val_per_class, args.seed, args.segmentations)
    print(', '.join(f'{s}: {n} images' for s, n in counts.items()))
    return counts


if __name__ == '__main__':
    main()
