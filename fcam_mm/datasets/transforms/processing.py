"""Geometric transforms mmcv-lite does not provide."""
from typing import Sequence, Union

import numpy as np
from mmcv.transforms import BaseTransform
from mmcv.transforms.utils import cache_randomness

from fcam_mm.registry import TRANSFORMS


@TRANSFORMS.register_module()
class RandomCrop(BaseTransform):
    """Crop a random ``crop_size`` window (the "resize 256 → random crop 224"
    training augmentation of Choe et al. 2020).

    The image is cropped, and with it the per-pixel training target
    ``gt_seg_map`` when the sample has one (the FSL baseline's mask or
    filled boxes, ``LoadWSOLAnnotations(seg_target=...)``), by the same
    window. The evaluation GT (``ori_gt_bboxes`` / ``ori_gt_mask``) stays in
    the original frame: the protocol rescales it itself.

    Args:
        crop_size (int | (int, int)): output ``(h, w)`` (an int: square).

    Required keys: ``img``. Modified: ``img``, ``img_shape``,
    ``gt_seg_map`` (optional). Added: ``crop_bbox`` (x0, y0, x1, y1)
    exclusive.
    """

    def __init__(self, crop_size: Union[int, Sequence[int]]):
        if isinstance(crop_size, int):
            crop_size = (crop_size, crop_size)
        crop_size = tuple(int(s) for s in crop_size)
        if len(crop_size) != 2 or min(crop_size) <= 0:
            raise ValueError(f'crop_size must be a positive int or (h, w), '
                             f'got {crop_size}')
        self.crop_size = crop_size

    @cache_randomness
    def _random_offset(self, height: int, width: int):
        return (np.random.randint(0, height - self.crop_size[0] + 1),
                np.random.randint(0, width - self.crop_size[1] + 1))

    def transform(self, results: dict) -> dict:
        img = results['img']
        height, width = img.shape[:2]
        crop_h, crop_w = self.crop_size
        if crop_h > height or crop_w > width:
            raise ValueError(f'{results.get("img_path", "image")}: cannot '
                             f'crop {crop_w}x{crop_h} from a {width}x{height} '
                             'image; resize it first')
        top, left = self._random_offset(height, width)
        results['img'] = img[top:top + crop_h, left:left + crop_w]
        if results.get('gt_seg_map') is not None:
            seg_map = results['gt_seg_map']
            if seg_map.shape[:2] != (height, width):
                raise ValueError(
                    f'{results.get("img_path", "image")}: gt_seg_map is '
                    f'{seg_map.shape[1]}x{seg_map.shape[0]} but the image '
                    f'is {width}x{height}; a geometric transform before the '
                    'crop moved one and not the other')
            results['gt_seg_map'] = seg_map[top:top + crop_h,
                                            left:left + crop_w]
        results['img_shape'] = (crop_h, crop_w)
        results['crop_bbox'] = (left, top, left + crop_w, top + crop_h)
        return results

    def __repr__(self):
        return f'{self.__class__.__name__}(crop_size={self.crop_size})'
