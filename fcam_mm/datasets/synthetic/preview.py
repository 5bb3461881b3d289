"""A mosaic of a written synthetic dataset, read back from disk.

It reads only the wsolevaluation metadata and files, so it shows any
preset's output (and would show any dataset in that layout).
"""
import math
import os
import os.path as osp

import cv2
import numpy as np

from ..file_writing import imwrite

__all__ = ['make_preview']


def make_preview(data_root: str,
                 out_path: str,
                 split: str = 'val',
                 num_images: int = 24,
                 columns: int = 6,
                 tile: int = 200) -> str:
    """Write a mosaic PNG of the first ``num_images`` images of ``split``
    read back from ``data_root``: GT box in green, mask outline in white,
    ignore band in grey, class index top-left. Returns ``out_path``."""
    if num_images <= 0 or columns <= 0 or tile < 32:
        raise ValueError('num_images and columns must be positive and tile '
                         f'>= 32, got {num_images}, {columns}, {tile}')
    folder = osp.join(data_root, 'metadata', split)
    with open(osp.join(folder, 'class_labels.txt'), encoding='utf-8') as f:
        labels = dict(line.strip().split(',') for line in f if line.strip())
    with open(osp.join(folder, 'localization.txt'), encoding='utf-8') as f:
        boxes = {}
        for line in f:
            if line.strip():
                path, *coords = line.strip().split(',')
                boxes[path] = [int(c) for c in coords]
    with open(osp.join(folder, 'localization_mask.txt'),
              encoding='utf-8') as f:
        masks = {}
        for line in f:
            if line.strip():
                path, mask, ignore = line.strip().split(',')
                masks[path] = (mask, ignore)
    image_ids = list(labels)[:num_images]
    rows = int(math.ceil(len(image_ids) / columns))
    mosaic = np.full((rows * tile, columns * tile, 3), 40, np.uint8)
    for k, image_id in enumerate(image_ids):
        image = cv2.imread(osp.join(data_root, 'images', image_id))
        mask = cv2.imread(osp.join(data_root, 'masks', masks[image_id][0]),
                          cv2.IMREAD_GRAYSCALE)
        ignore = cv2.imread(osp.join(data_root, 'masks',
                                     masks[image_id][1]),
                            cv2.IMREAD_GRAYSCALE)
        height, width = image.shape[:2]
        factor = (tile - 4) / max(height, width)
        size = (max(1, round(width * factor)), max(1, round(height * factor)))
        shown = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
        ignore = cv2.resize(ignore, size, interpolation=cv2.INTER_NEAREST)
        shown[ignore > 0] = (shown[ignore > 0] // 2 + 64)
        mask = cv2.resize(mask, size, interpolation=cv2.INTER_NEAREST)
        contours, _ = cv2.findContours((mask > 0).astype(np.uint8),
                                       cv2.RETR_TREE, cv2.CHAIN_APPROX_NONE)
        cv2.drawContours(shown, contours, -1, (255, 255, 255), 1)
        x0, y0, x1, y1 = boxes[image_id]
        cv2.rectangle(shown, (int(x0 * factor), int(y0 * factor)),
                      (int((x1 + 1) * factor) - 1, int((y1 + 1) * factor) - 1),
                      (0, 255, 0), 1)
        cv2.putText(shown, labels[image_id], (3, 14),
                    cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 0, 0), 3,
                    cv2.LINE_AA)
        cv2.putText(shown, labels[image_id], (3, 14),
                    cv2.FONT_HERSHEY_SIMPLEX, 0.45, (255, 255, 255), 1,
                    cv2.LINE_AA)
        row, col = divmod(k, columns)
        top, left = row * tile + 2, col * tile + 2
        mosaic[top:top + size[1], left:left + size[0]] = shown
    out_dir = osp.dirname(osp.abspath(out_path))
    os.makedirs(out_dir, exist_ok=True)
    imwrite(out_path, mosaic)
    return out_path
