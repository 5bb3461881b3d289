"""The data sample that travels with every image through fcam_mm."""
from numbers import Integral
from typing import Sequence, Union

import numpy as np
import torch
from mmengine.structures import BaseDataElement


def _as_tensor(value, dtype, name):
    if isinstance(value, torch.Tensor):
        return value.to(dtype)
    if isinstance(value, (np.ndarray, Sequence)):
        return torch.as_tensor(np.asarray(value), dtype=dtype)
    if isinstance(value, Integral):
        return torch.tensor([value], dtype=dtype)
    raise TypeError(f'{name}: cannot convert {type(value).__name__} to a '
                    'tensor')


class WSOLDataSample(BaseDataElement):
    """One image's annotations and predictions for WSOL.

    Ground truth (set by the data pipeline):

    - ``gt_label`` (LongTensor, shape (1,)): the image-level class, 0-based.
    - ``gt_bboxes`` (FloatTensor, shape (n, 4)): boxes ``x0, y0, x1, y1`` with
      inclusive pixel coordinates in the ORIGINAL image, as in the
      wsolevaluation metadata (box datasets only).
    - ``gt_mask`` (uint8 ndarray, (H, W)): the original-resolution mask with
      1 = object (all instances OR-ed), 0 = background, 255 = ignore
      (mask datasets only).
    - ``gt_seg_map`` (uint8 Tensor, (h, w)): a per-pixel training target in
      the frame of the transformed image (resized, cropped, flipped with
      it): the GT mask or the filled GT boxes, 255 = ignore. Only the FSL
      baseline's training pipelines make it
      (``LoadWSOLAnnotations(seg_target=...)``).

    Predictions (set by the model in ``predict`` mode):

    - ``pred_score`` (FloatTensor, (K,)): class probabilities.
    - ``pred_label`` (LongTensor, (1,)): the arg-max class.
    - ``cam`` (FloatTensor, (h, w)): the classifier's low-resolution CAM of
      the GT class when the label is known (GT-known protocol), else of the
      predicted class.
    - ``fcam`` (FloatTensor, (H', W')): the full-resolution F-CAM map
      (``softmax(decoder logits)[:, 1]``; the FSL baseline's segmenter
      fills it with the same quantity of its own decoder).

    Meta information: ``img_path``, ``img_id`` (the path as written in the
    metadata), ``ori_shape`` (H, W), ``img_shape``, ``sample_idx`` and the
    transform records (``scale_factor``, ``flip``, ...).
    """

    def set_gt_label(self, value: Union[int, np.ndarray, torch.Tensor]
                     ) -> 'WSOLDataSample':
        label = _as_tensor(value, torch.long, 'gt_label').reshape(-1)
        if label.numel() != 1:
            raise ValueError('gt_label must hold exactly one class index, '
                             f'got {label.numel()}')
        self.gt_label = label
        return self

    def set_gt_bboxes(self, value) -> 'WSOLDataSample':
        boxes = _as_tensor(value, torch.float32, 'gt_bboxes').reshape(-1, 4)
        self.gt_bboxes = boxes
        return self

    def set_pred_score(self, value: torch.Tensor) -> 'WSOLDataSample':
        self.pred_score = value
        self.pred_label = value.argmax(dim=-1, keepdim=True)
        return self
