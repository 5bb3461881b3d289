"""WSOL datasets in the wsolevaluation metadata format (Choe et al. 2020)."""
import os.path as osp
from typing import Any, List, Optional, Sequence, Union

import numpy as np
from mmengine.dataset import BaseDataset
from mmengine.fileio import list_from_file

from fcam_mm.registry import DATASETS
from .bad_samples import DataFileError, attach_skipped, log_skipped
from .metadata import (MetadataError, read_boxes, read_class_labels,
                       read_image_ids, read_image_sizes, read_masks,
                       require_same_images)
from .worker_seeding import EpochSeededWorkers


@DATASETS.register_module()
class WSOLDataset(EpochSeededWorkers, BaseDataset):
    """A split of a WSOL dataset described by wsolevaluation metadata.

    Layout (paths relative to ``data_root``)::

        {ann_file}/image_ids.txt, class_labels.txt, image_sizes.txt,
                   [box_file], [mask_file]
        {data_prefix['img_path']}/<path of image_ids.txt>
        {data_prefix['mask_path']}/<mask and ignore paths of mask_file>

    Args:
        ann_file (str): the split's metadata folder, e.g. ``'metadata/test'``.
        box_file (str, optional): file name of the box flavour of
            ``localization.txt`` inside ``ann_file`` (``None``: no boxes).
        mask_file (str, optional): file name of the mask flavour
            (``None``: no masks).
        require_localization (bool): every image must have a box (or a mask)
            in the given files. Default: True when any such file is given.
        classes (str | Sequence[str], optional): class names, or the path of
            a file with one name per line (relative to ``data_root``).
            Without it, names come from ``metainfo`` or are ``'0'...'K-1'``
            with ``K = max(label) + 1``.
        check_files (bool): check at start that every image (and mask) file
            exists, so a missing file fails before training, not at epoch 7.
        skip_bad_samples (bool): training only (an error with
            ``test_mode=True``: a metric over another set of images is not
            the split's). When a sample's files turn out broken at load time
            (:class:`~fcam_mm.datasets.bad_samples.DataFileError`: missing,
            truncated, undecodable, or not the size of ``image_sizes.txt``;
            a mask of the wrong size), log a warning naming the file and its
            metadata line and use another sample, drawn at random like
            mmengine's refetch (``np.random``, seeded by the runner); the
            skipped errors ride in the next sample's metainfo
            (``skipped_bad_samples``) so that ``BadSampleReportHook`` logs
            their count at the end of each epoch, worker processes or not.
            Default False: the error stops training, naming the file and
            the line. docs/datasets.md, "Broken files met during training".
        **kwargs: passed to :class:`mmengine.dataset.BaseDataset`
            (``data_root``, ``data_prefix``, ``pipeline``, ``test_mode``...).

    Each sample (``get_data_info``) carries ``metadata_where``, the
    ``FILE:LINE`` of its ``image`` (image_ids.txt), ``label``, ``size`` and
    ``masks`` (one per instance PNG) lines, which the loading transforms
    put in their errors; packed samples get ``gt_label_where`` in their
    metainfo (for the model's label-range check).
    """

    METAINFO = dict(classes=None)

    def __init__(self,
                 ann_file: str,
                 box_file: Optional[str] = 'localization.txt',
                 mask_file: Optional[str] = None,
                 require_localization: bool = True,
                 classes: Union[str, Sequence[str], None] = None,
                 check_files: bool = True,
                 skip_bad_samples: bool = False,
                 data_prefix: dict = dict(img_path='', mask_path=''),
                 **kwargs):
        if skip_bad_samples and kwargs.get('test_mode', False):
            raise ValueError(
                'skip_bad_samples=True with test_mode=True: evaluation never '
                'skips a sample (the metrics would cover another set of '
                'images than the split); fix or remove the broken files '
                '(tools/misc/browse_dataset.py lists them)')
        self.box_file = box_file
        self.mask_file = mask_file
        self.require_localization = require_localization
        self.check_files = check_files
        self.skip_bad_samples = bool(skip_bad_samples)
        self._metadata_files = (None, None, None, None)
        data_prefix = dict(dict(img_path='', mask_path=''), **data_prefix)
        self._classes_arg = classes
        self._init_worker_seeding()
        super().__init__(ann_file=ann_file, data_prefix=data_prefix, **kwargs)

    # -- metadata -----------------------------------------------------------
    def _resolve_classes(self) -> Optional[List[str]]:
        classes = self._classes_arg
        if classes is None:
            classes = self._metainfo.get('classes')
        if isinstance(classes, str):
            path = classes if osp.isabs(classes) else osp.join(
                self.data_root or '', classes)
            if not osp.isfile(path):
                raise MetadataError(f'class-names file not found: {path}')
            classes = [c.strip() for c in list_from_file(path) if c.strip()]
        return None if classes is None else list(classes)

    def load_data_list(self) -> List[dict]:
        folder = self.ann_file
        classes = self._resolve_classes()
        num_classes = None if classes is None else len(classes)

        ids_path = osp.join(folder, 'image_ids.txt')
        labels_path = osp.join(folder, 'class_labels.txt')
        sizes_path = osp.join(folder, 'image_sizes.txt')
        image_ids = read_image_ids(ids_path)
        labels = read_class_labels(labels_path, num_classes)
        require_same_images(image_ids, labels, labels_path, 'class label')
        sizes = read_image_sizes(sizes_path)
        require_same_images(image_ids, sizes, sizes_path, 'image size')

        boxes = masks = mask_path = None
        if self.box_file is not None:
            box_path = osp.join(folder, self.box_file)
            boxes = read_boxes(box_path, sizes)
            require_same_images(image_ids, boxes, box_path, 'box',
                                not self.require_localization)
        if self.mask_file is not None:
            mask_path = osp.join(folder, self.mask_file)
            masks = read_masks(mask_path)
            require_same_images(image_ids, masks, mask_path, 'mask',
                                not self.require_localization)

        if classes is None:
            classes = [str(i) for i in range(max(labels.values()) + 1)]
        self._metainfo['classes'] = tuple(classes)

        img_root = self.data_prefix.get('img_path', '')
        mask_root = self.data_prefix.get('mask_path', '')
        # The metadata lines of each sample, for the load-time errors
        # (metadata_where in get_data_info): three ints per image here.
        self._metadata_files = (ids_path, labels_path, sizes_path, mask_path)
        data_list = []
        for image_id in image_ids:
            width, height = sizes[image_id]
            info = dict(
                img_path=osp.join(img_root, image_id),
                img_id=image_id,
                gt_label=labels[image_id],
                metadata_shape=(height, width),
                metadata_lines=(image_ids.lines[image_id],
                                labels.lines[image_id],
                                sizes.lines[image_id]))
            if boxes is not None and image_id in boxes:
                info['gt_bboxes'] = np.asarray(boxes[image_id], np.float32)
            if masks is not None and image_id in masks:
                instance_paths, ignore_path = masks[image_id]
                info['mask_paths'] = [
                    osp.join(mask_root, p) for p in instance_paths
                ]
                info['ignore_path'] = (None if ignore_path is None else
                                       osp.join(mask_root, ignore_path))
                info['mask_lines'] = tuple(masks.instance_lines[image_id])
            data_list.append(info)

        if self.check_files:
            self._check_files_exist(data_list)
        return data_list

    # -- loading -------------------------------------------------------------
    def get_data_info(self, idx: int) -> dict:
        info = super().get_data_info(idx)
        lines = info.get('metadata_lines')
        if lines is not None:
            ids_path, labels_path, sizes_path, mask_path = \
                self._metadata_files
            where = dict(image=f'{ids_path}:{lines[0]}',
                         label=f'{labels_path}:{lines[1]}',
                         size=f'{sizes_path}:{lines[2]}')
            if mask_path is not None and 'mask_lines' in info:
                where['masks'] = [f'{mask_path}:{n}'
                                  for n in info['mask_lines']]
            info['metadata_where'] = where
        return info

    def prepare_data(self, idx) -> Any:
        info = self.get_data_info(idx)
        label_where = info.get('metadata_where', {}).get('label')
        data = self.pipeline(info)
        sample = data.get('data_samples') if isinstance(data, dict) else None
        if label_where and hasattr(sample, 'set_metainfo'):
            sample.set_metainfo(dict(gt_label_where=label_where))
        return data

    def __getitem__(self, idx: int) -> dict:
        self.reseed_worker_for_epoch()
        if not self.skip_bad_samples or self.test_mode:
            return super().__getitem__(idx)
        if not self._fully_initialized:
            self.full_init()
        # mmengine's refetch loop, plus: a DataFileError is logged and
        # counted, not raised. Other exceptions (bugs, wrong configs) are
        # raised as usual.
        skipped = []
        for _ in range(self.max_refetch + 1):
            try:
                data = self.prepare_data(idx)
            except DataFileError as error:
                log_skipped(error, idx)
                skipped.append(str(error))
                idx = self._rand_another()
                continue
            if data is None:  # a transform's own "no sample" (mmengine)
                idx = self._rand_another()
                continue
            if skipped:
                attach_skipped(data, skipped)
            return data
        raise DataFileError(
            f'skip_bad_samples: no loadable sample in {self.max_refetch + 1}'
            f' draws ({len(skipped)} broken files, the last: '
            f'{skipped[-1] if skipped else "none"}); is the data folder '
            'there?')

    @staticmethod
    def _check_files_exist(data_list: List[dict]):
        missing = []
        for info in data_list:
            paths = [info['img_path']] + info.get('mask_paths', [])
            if info.get('ignore_path'):
                paths.append(info['ignore_path'])
            missing.extend(p for p in paths if not osp.isfile(p))
        if missing:
            raise MetadataError(
                f'{len(missing)} listed file(s) do not exist, e.g. '
                f'{missing[0]} (pass check_files=False to defer this to '
                'loading time)')


@DATASETS.register_module()
class CUBDataset(WSOLDataset):
    """CUB-200-2011 with the wsolevaluation splits: train 5,994 / val 1,000
    (from CUBV2) / test 5,794 images, 200 classes, one box per image."""

    METAINFO = dict(classes=tuple(str(i) for i in range(200)))


@DATASETS.register_module()
class OpenImagesDataset(WSOLDataset):
    """OpenImages30k of Choe et al.: train 29,819 / val 2,500 / test 5,000
    images, 100 classes, pixel masks with ignore regions (no boxes)."""

    METAINFO = dict(classes=tuple(str(i) for i in range(100)))

    def __init__(self, ann_file: str, box_file=None,
                 mask_file='localization.txt', **kwargs):
        super().__init__(ann_file, box_file=box_file, mask_file=mask_file,
                         **kwargs)


@DATASETS.register_module()
class ILSVRCDataset(WSOLDataset):
    """ImageNet-1k (ILSVRC 2012) in wsolevaluation form: val split
    (ImageNetV2) and test (the official 50,000 val images), possibly several
    boxes per image."""

    METAINFO = dict(classes=tuple(str(i) for i in range(1000)))
