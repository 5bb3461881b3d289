"""WSOL on COCO-format instance annotations (read with pycocotools)."""
import math
import os.path as osp
from collections import defaultdict
from typing import List

import numpy as np
from mmengine.dataset import BaseDataset
from mmengine.logging import print_log

from fcam_mm.registry import DATASETS
from .metadata import MetadataError
from .worker_seeding import EpochSeededWorkers


@DATASETS.register_module()
class CocoWSOLDataset(EpochSeededWorkers, BaseDataset):
    """Single-label WSOL from a COCO instance JSON.

    Each image gets ONE image-level label: the category covering the largest
    total annotated area (``label_policy='largest_area'``). The boxes and
    masks evaluated are those of that category only (GT-known localization);
    other categories' pixels count as background.

    Boxes: COCO's ``[x, y, w, h]`` in continuous coordinates become inclusive
    pixel boxes ``[floor(x), floor(y), ceil(x + w) - 1, ceil(y + h) - 1]``
    (clipped to the image), the convention of the wsolevaluation metadata.
    Masks: polygons / RLE of the label's instances OR-ed at load time; crowd
    instances of the label are marked ignore (255), as OpenImages marks
    ambiguous regions.

    Args:
        ann_file (str): the COCO instances JSON.
        label_policy (str): ``'largest_area'`` or ``'single'`` (an image
            whose annotations span several categories raises an error).
        skip_unannotated (bool): images without any annotation cannot get a
            label; they raise an error unless this is True, in which case
            they are dropped and counted in the log.
        with_mask (bool): decode instance masks for PxAP.
    """

    METAINFO = dict(classes=None)
    LABEL_POLICIES = ('largest_area', 'single')

    def __init__(self,
                 ann_file: str,
                 label_policy: str = 'largest_area',
                 skip_unannotated: bool = False,
                 with_mask: bool = True,
                 data_prefix: dict = dict(img_path=''),
                 **kwargs):
        if label_policy not in self.LABEL_POLICIES:
            raise ValueError(f'label_policy={label_policy!r}; choose one of '
                             f'{self.LABEL_POLICIES}')
        self.label_policy = label_policy
        self.skip_unannotated = skip_unannotated
        self.with_mask = with_mask
        self._init_worker_seeding()
        super().__init__(ann_file=ann_file, data_prefix=data_prefix, **kwargs)

    def __getitem__(self, idx: int) -> dict:
        self.reseed_worker_for_epoch()
        return super().__getitem__(idx)

    def load_data_list(self) -> List[dict]:
        from pycocotools.coco import COCO
        if not osp.isfile(self.ann_file):
            raise MetadataError(f'COCO annotation file not found: '
                                f'{self.ann_file}')
        coco = COCO(self.ann_file)
        cat_ids = sorted(coco.getCatIds())
        if not cat_ids:
            raise MetadataError(f'{self.ann_file}: no categories')
        label_of = {cat_id: i for i, cat_id in enumerate(cat_ids)}
        self._metainfo['classes'] = tuple(
            coco.loadCats(cat_id)[0]['name'] for cat_id in cat_ids)

        data_list, skipped = [], 0
        for img_id in sorted(coco.getImgIds()):
            img = coco.loadImgs(img_id)[0]
            anns = coco.loadAnns(coco.getAnnIds(imgIds=img_id))
            where = f'{self.ann_file}: image id {img_id} ({img["file_name"]})'
            if not anns:
                if self.skip_unannotated:
                    skipped += 1
                    continue
                raise MetadataError(f'{where} has no annotation, so no label '
                                    '(set skip_unannotated=True to drop such '
                                    'images)')
            area = defaultdict(float)
            for ann in anns:
                if ann['category_id'] not in label_of:
                    raise MetadataError(f'{where}: annotation {ann["id"]} has '
                                        f'unknown category_id '
                                        f'{ann["category_id"]}')
                area[ann['category_id']] += float(ann.get('area', 0.0))
            if self.label_policy == 'single' and len(area) > 1:
                raise MetadataError(f'{where} has {len(area)} categories; '
                                    "label_policy='single' needs one")
            # Ties go to the smaller category id so the label is stable.
            cat_id = max(sorted(area), key=lambda c: area[c])
            width, height = int(img['width']), int(img['height'])
            boxes, segms, crowd, segm_ids, crowd_ids = [], [], [], [], []
            for ann in anns:
                if ann['category_id'] != cat_id:
                    continue
                x, y, w, h = ann['bbox']
                box = [
                    max(0, math.floor(x)),
                    max(0, math.floor(y)),
                    min(width - 1, math.ceil(x + w) - 1),
                    min(height - 1, math.ceil(y + h) - 1)
                ]
                if box[2] < box[0] or box[3] < box[1]:
                    raise MetadataError(f'{where}: annotation {ann["id"]} '
                                        f'has an empty or outside box '
                                        f'{ann["bbox"]}')
                if self.with_mask:
                    self._check_rle_size(ann, height, width, where)
                if ann.get('iscrowd', 0):
                    crowd.append(ann['segmentation'])
                    crowd_ids.append(ann['id'])
                else:
                    boxes.append(box)
                    segms.append(ann['segmentation'])
                    segm_ids.append(ann['id'])
            if not boxes:
                raise MetadataError(f'{where}: only crowd annotations for its '
                                    'label')
            info = dict(
                img_path=osp.join(self.data_prefix['img_path'],
                                  img['file_name']),
                img_id=img['file_name'],
                gt_label=label_of[cat_id],
                metadata_shape=(height, width),
                gt_bboxes=np.asarray(boxes, np.float32))
            if self.with_mask:
                info['coco_segms'] = segms
                info['coco_crowd_segms'] = crowd
                info['coco_ann_ids'] = segm_ids
                info['coco_crowd_ann_ids'] = crowd_ids
            data_list.append(info)
        if skipped:
            print_log(f'CocoWSOLDataset: skipped {skipped} unannotated '
                      f'image(s) of {self.ann_file}', logger='current')
        if not data_list:
            raise MetadataError(f'{self.ann_file}: no usable image')
        return data_list

    @staticmethod
    def _check_rle_size(ann: dict, height: int, width: int, where: str):
        """An RLE carries its own ``size`` ([height, width]); one that is not
        the image's would fail only when the loader decodes it."""
        segm = ann.get('segmentation')
        if not isinstance(segm, dict):  # polygons take the image's size
            return
        size = segm.get('size')
        if (not isinstance(size, (list, tuple)) or len(size) != 2
                or 'counts' not in segm):
            raise MetadataError(f'{where}: annotation {ann["id"]} has an '
                                "RLE segmentation without 'counts' and a "
                                "[height, width] 'size'")
        if list(size) != [height, width]:
            raise MetadataError(f'{where}: annotation {ann["id"]} has an '
                                f'RLE mask of {size[1]}x{size[0]} (size '
                                f'{list(size)}) but the image is '
                                f'{width}x{height}')
