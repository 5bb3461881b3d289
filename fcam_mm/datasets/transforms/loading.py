"""Loading the WSOL ground truth that the metrics evaluate."""
from typing import List, Optional

import mmcv
import numpy as np
from mmcv.transforms import BaseTransform
from mmengine.fileio import get

from fcam_mm.registry import TRANSFORMS

OBJECT, BACKGROUND, IGNORE = 1, 0, 255


def _is_gray(image: np.ndarray) -> bool:
    colour = image[..., :3]
    opaque = image.shape[2] == 3 or bool(
        (image[..., 3] == np.iinfo(image.dtype).max).all())
    return opaque and bool((colour == colour[..., :1]).all())


def read_mask(path: str) -> np.ndarray:
    """Decode a mask PNG as stored (8- or 16-bit), one channel.

    Read unchanged, not with ``flag='grayscale'``: that converts a 16-bit
    PNG to 8 bits by dividing by 256, which turns a 0/1 mask into all zeros.
    The caller binarises with ``> 0``. A colour (3-/4-channel) mask is an
    error rather than converted, since which channel or colour means
    "object" is not defined by the format — unless it is grey (equal colour
    channels, opaque), which is read as its one grey channel.
    """
    try:
        mask = mmcv.imfrombytes(get(path), flag='unchanged', backend='cv2')
    except Exception as e:  # decoding errors come in many types
        raise ValueError(f'cannot decode mask {path}: {e}') from e
    if mask is None:
        raise ValueError(f'cannot decode mask {path}')
    if mask.ndim == 3 and mask.shape[2] == 1:
        mask = mask[..., 0]
    elif mask.ndim == 3 and mask.shape[2] in (3, 4) and _is_gray(mask):
        # A grey mask stored as RGB(A), e.g. a palette PNG whose palette is
        # black and white (OpenCV expands palettes to colour).
        mask = mask[..., 0]
    if mask.ndim != 2:
        got = (f'{mask.shape[2]} channels' if mask.ndim == 3 else
               f'shape {mask.shape}')
        raise ValueError(f'mask {path} has {got}; a mask must be a '
                         'single-channel (grayscale) image, non-zero = set')
    return mask


def merge_instance_masks(instances: List[np.ndarray],
                         ignore: Optional[np.ndarray]) -> np.ndarray:
    """One uint8 map: 1 where any instance is set, 255 where only the ignore
    mask is set, 0 elsewhere (wsolevaluation: ignore never overrides an
    object pixel)."""
    objects = np.logical_or.reduce([m > 0 for m in instances])
    merged = objects.astype(np.uint8)
    if ignore is not None:
        merged[(ignore > 0) & ~objects] = IGNORE
    return merged


@TRANSFORMS.register_module()
class LoadWSOLAnnotations(BaseTransform):
    """Check the decoded image against the metadata and load GT masks.

    Run right after ``LoadImageFromFile``. Ground truth stays in the ORIGINAL
    image frame under ``ori_gt_bboxes`` / ``ori_gt_mask`` — keys that the
    geometric transforms do not touch — because the protocol rescales GT to
    the evaluation size itself (boxes by truncation, masks by nearest).

    Required keys: ``img``, ``img_path``, ``metadata_shape``; optional
    ``gt_bboxes``, ``mask_paths``/``ignore_path`` (metadata masks) or
    ``coco_segms``/``coco_crowd_segms`` (COCO polygons / RLE, with
    ``coco_ann_ids``/``coco_crowd_ann_ids`` to name them in errors).
    Added keys: ``ori_gt_bboxes``, ``ori_gt_mask``.

    Args:
        with_mask (bool): load masks when the sample has them.
    """

    def __init__(self, with_mask: bool = True):
        self.with_mask = with_mask

    def transform(self, results: dict) -> dict:
        height, width = results['img'].shape[:2]
        expected = tuple(results.get('metadata_shape', (height, width)))
        if (height, width) != expected:
            raise ValueError(
                f'{results["img_path"]}: decoded image is {width}x{height} '
                f'but the metadata says {expected[1]}x{expected[0]}')
        if 'gt_bboxes' in results:
            results['ori_gt_bboxes'] = np.asarray(results.pop('gt_bboxes'),
                                                  np.float32).reshape(-1, 4)
        if not self.with_mask:
            return results
        if 'mask_paths' in results:
            instances = [read_mask(p) for p in results['mask_paths']]
            ignore = (read_mask(results['ignore_path'])
                      if results.get('ignore_path') else None)
            for path, m in zip(results['mask_paths'] +
                               [results.get('ignore_path')],
                               instances + [ignore]):
                if m is not None and m.shape != (height, width):
                    raise ValueError(f'mask {path} is {m.shape[1]}x'
                                     f'{m.shape[0]}, its image '
                                     f'{results["img_path"]} is '
                                     f'{width}x{height}')
            results['ori_gt_mask'] = merge_instance_masks(instances, ignore)
        elif 'coco_segms' in results:
            results['ori_gt_mask'] = self._coco_mask(results, height, width)
        return results

    @staticmethod
    def _coco_mask(results: dict, height: int, width: int) -> np.ndarray:
        from pycocotools import mask as mask_utils

        def decode(segm, name):
            if isinstance(segm, list):  # polygons
                rles = mask_utils.frPyObjects(segm, height, width)
                rle = mask_utils.merge(rles)
            elif isinstance(segm['counts'], list):  # uncompressed RLE
                # keeps the RLE's own 'size', whatever height/width say
                rle = mask_utils.frPyObjects(segm, height, width)
            else:
                rle = segm
            mask = mask_utils.decode(rle)
            if mask.shape != (height, width):
                raise ValueError(f'{results["img_path"]}: {name} decodes to '
                                 f'a {mask.shape[1]}x{mask.shape[0]} mask, '
                                 f'but the image is {width}x{height}')
            return mask

        def decode_all(segms_key, ids_key):
            segms = results.get(segms_key, [])
            ids = results.get(ids_key)
            if ids is None:
                names = [f'{segms_key}[{i}]' for i in range(len(segms))]
            elif len(ids) != len(segms):
                raise ValueError(f'{results["img_path"]}: {len(segms)} '
                                 f'{segms_key} but {len(ids)} {ids_key}')
            else:
                names = [f'annotation {ann_id}' for ann_id in ids]
            return [decode(s, n) for s, n in zip(segms, names)]

        instances = decode_all('coco_segms', 'coco_ann_ids')
        crowd = decode_all('coco_crowd_segms', 'coco_crowd_ann_ids')
        ignore = np.logical_or.reduce(crowd) if crowd else None
        return merge_instance_masks(instances, ignore)

    def __repr__(self):
        return f'{self.__class__.__name__}(with_mask={self.with_mask})'
