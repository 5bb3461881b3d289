"""Packing a transformed sample into ``inputs`` + :class:`WSOLDataSample`."""
import numpy as np
import torch
from mmcv.transforms import BaseTransform

from fcam_mm.registry import TRANSFORMS
from fcam_mm.structures import WSOLDataSample


@TRANSFORMS.register_module()
class PackWSOLInputs(BaseTransform):
    """Pack the image as a CHW uint8 tensor and the annotations as a
    :class:`WSOLDataSample`.

    ``gt_label`` → ``gt_label``; ``ori_gt_bboxes`` → ``gt_bboxes`` and
    ``ori_gt_mask`` → ``gt_mask`` (both in the original image frame);
    ``gt_seg_map`` → ``gt_seg_map`` (a uint8 tensor in the frame of the
    packed image: the FSL baseline's per-pixel training target).

    Args:
        meta_keys (tuple[str]): keys copied into the sample's metainfo when
            present.
    """

    def __init__(self,
                 meta_keys=('sample_idx', 'img_path', 'img_id', 'ori_shape',
                            'img_shape', 'scale_factor', 'flip',
                            'flip_direction', 'crop_bbox')):
        self.meta_keys = tuple(meta_keys)

    def transform(self, results: dict) -> dict:
        img = results['img']
        if img.ndim == 2:
            img = img[..., None]
        inputs = torch.from_numpy(np.ascontiguousarray(img.transpose(2, 0, 1)))

        sample = WSOLDataSample()
        if 'gt_label' in results:
            sample.set_gt_label(results['gt_label'])
        if 'ori_gt_bboxes' in results:
            sample.set_gt_bboxes(results['ori_gt_bboxes'])
        if 'ori_gt_mask' in results:
            sample.gt_mask = results['ori_gt_mask']
        if results.get('gt_seg_map') is not None:
            seg_map = results['gt_seg_map']
            if seg_map.shape[:2] != img.shape[:2]:
                raise ValueError(
                    f'{results.get("img_path", "image")}: gt_seg_map is '
                    f'{seg_map.shape[:2]} but the image is {img.shape[:2]}')
            # flips leave negative strides, which torch cannot wrap
            sample.gt_seg_map = torch.from_numpy(
                np.ascontiguousarray(seg_map, dtype=np.uint8))
        sample.set_metainfo(
            {k: results[k]
             for k in self.meta_keys if k in results})
        return dict(inputs=inputs, data_samples=sample)

    def __repr__(self):
        return f'{self.__class__.__name__}(meta_keys={self.meta_keys})'
