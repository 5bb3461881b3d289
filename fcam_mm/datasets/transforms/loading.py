"""Loading the WSOL ground truth that the metrics evaluate (and, for the
fully supervised FSL baseline, that a segmenter is trained on)."""
from typing import List, Optional

import mmcv
import numpy as np
from mmcv.transforms import BaseTransform
from mmcv.transforms import LoadImageFromFile as MMCVLoadImageFromFile
from mmengine import fileio
from mmengine.fileio import get

from fcam_mm.registry import TRANSFORMS
from ..bad_samples import DataFileError, encoded_image_problem, listed_on

OBJECT, BACKGROUND, IGNORE = 1, 0, 255


def _is_gray(image: np.ndarray) -> bool:
    colour = image[..., :3]
    opaque = image.shape[2] == 3 or bool(
        (image[..., 3] == np.iinfo(image.dtype).max).all())
    return opaque and bool((colour == colour[..., :1]).all())


def read_mask(path: str, where: str = '') -> np.ndarray:
    """Decode a mask PNG as stored (8- or 16-bit), one channel.

    Read unchanged, not with ``flag='grayscale'``: that converts a 16-bit
    PNG to 8 bits by dividing by 256, which turns a 0/1 mask into all zeros.
    The caller binarises with ``> 0``. A colour (3-/4-channel) mask is an
    error rather than converted, since which channel or colour means
    "object" is not defined by the format — unless it is grey (equal colour
    channels, opaque), which is read as its one grey channel.

    A missing, truncated or undecodable file raises :class:`DataFileError`
    (a ``ValueError``); ``where`` (e.g. ``' (listed on FILE:LINE)'``) is
    appended to the messages.
    """
    try:
        data = get(path)
        problem = encoded_image_problem(data)
        mask = (None if problem else mmcv.imfrombytes(
            data, flag='unchanged', backend='cv2'))
    except Exception as e:  # reading / decoding errors come in many types
        raise DataFileError(f'cannot decode mask {path}: {e}{where}',
                            path) from e
    if mask is None:
        raise DataFileError(
            f'cannot decode mask {path}: {problem or "not an image"}{where}',
            path)
    if mask.ndim == 3 and mask.shape[2] == 1:
        mask = mask[..., 0]
    elif mask.ndim == 3 and mask.shape[2] in (3, 4) and _is_gray(mask):
        # A grey mask stored as RGB(A), e.g. a palette PNG whose palette is
        # black and white (OpenCV expands palettes to colour).
        mask = mask[..., 0]
    if mask.ndim != 2:
        got = (f'{mask.shape[2]} channels' if mask.ndim == 3 else
               f'shape {mask.shape}')
        raise DataFileError(f'mask {path} has {got}; a mask must be a '
                            'single-channel (grayscale) image, non-zero = '
                            f'set{where}', path)
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


def fill_boxes(boxes: np.ndarray, height: int, width: int) -> np.ndarray:
    """The union of the filled boxes as a uint8 ``(height, width)`` map:
    ``1`` on every pixel ``(x, y)`` with ``x0 <= x <= x1`` and
    ``y0 <= y <= y1`` for some box (wsolevaluation's inclusive corners,
    clipped to the image), ``0`` elsewhere.

    This is the segmentation target of the few-shot fully supervised (FSL)
    baseline on box-only datasets (CUB, ImageNet): Choe et al. (CVPR 2020,
    §5) train it on the filled GT boxes there.
    """
    filled = np.zeros((height, width), np.uint8)
    for x0, y0, x1, y1 in np.asarray(boxes, np.float64).reshape(-1, 4):
        left, top = max(int(x0), 0), max(int(y0), 0)
        right, bottom = min(int(x1), width - 1), min(int(y1), height - 1)
        if left <= right and top <= bottom:
            filled[top:bottom + 1, left:right + 1] = OBJECT
    return filled


SEG_TARGETS = ('mask', 'boxes')


def check_metadata_size(results: dict, height: int, width: int) -> None:
    """Raise :class:`DataFileError` when the decoded ``height x width``
    differs from the sample's ``metadata_shape`` (``image_sizes.txt``)."""
    expected = results.get('metadata_shape')
    if expected is None or (height, width) == tuple(expected):
        return
    place = (results.get('metadata_where') or {}).get('size')
    raise DataFileError(
        f'{results["img_path"]}: decoded image is {width}x{height} but the '
        f'metadata says {expected[1]}x{expected[0]}'
        + (f' ({place})' if place else ''), results['img_path'])


@TRANSFORMS.register_module()
class LoadImageFromFile(MMCVLoadImageFromFile):
    """mmcv's ``LoadImageFromFile`` (same arguments), with the checks a
    WSOL sample needs at load time. Registered in fcam_mm's scope under the
    same name, so every ``dict(type='LoadImageFromFile')`` of the configs
    gets it (``type='mmcv.LoadImageFromFile'`` is mmcv's).

    - A truncated JPEG or PNG is an error even where the decoder would
      return a partial image (:func:`~fcam_mm.datasets.bad_samples.
      encoded_image_problem`: a look at the bytes, microseconds).
    - A missing, unreadable or undecodable file raises
      :class:`~fcam_mm.datasets.bad_samples.DataFileError` naming it and
      the metadata line that lists it (``metadata_where['image']``, set by
      :class:`~fcam_mm.datasets.WSOLDataset`), instead of mmcv's bare
      ``AssertionError``.
    - With ``check_size`` (default), a decoded size other than the
      sample's ``metadata_shape`` (``image_sizes.txt``) is an error naming
      that line — in training too, where the pipelines have no
      :class:`LoadWSOLAnnotations`.

    ``ignore_empty=True`` keeps mmcv's meaning (``None`` for an unreadable
    file, which mmengine's dataset replaces by another sample without a
    word); the datasets' ``skip_bad_samples`` is the logged alternative.

    Args:
        check_size (bool): compare the decoded size with
            ``metadata_shape`` when the sample has one.
        **kwargs: mmcv's ``LoadImageFromFile`` arguments.
    """

    def __init__(self, check_size: bool = True, **kwargs):
        super().__init__(**kwargs)
        self.check_size = check_size

    def _read(self, filename: str) -> bytes:
        if self.file_client_args is not None:
            client = fileio.FileClient.infer_client(self.file_client_args,
                                                    filename)
            return client.get(filename)
        return fileio.get(filename, backend_args=self.backend_args)

    def transform(self, results: dict) -> Optional[dict]:
        filename = results['img_path']
        where = listed_on(results.get('metadata_where'), 'image')
        problem = None
        try:
            data = self._read(filename)
            problem = encoded_image_problem(data)
            img = None if problem else mmcv.imfrombytes(
                data, flag=self.color_type, backend=self.imdecode_backend)
        except Exception as e:  # missing file, I/O, decoder errors
            if self.ignore_empty:
                return None
            reason = ('no such file' if isinstance(e, FileNotFoundError)
                      else f'cannot read or decode it ({type(e).__name__}: '
                      f'{e})')
            raise DataFileError(f'{filename}: {reason}{where}',
                                filename) from e
        if img is None:
            if self.ignore_empty:
                return None
            raise DataFileError(
                f'{filename}: {problem or "not a decodable image"}{where}',
                filename)
        if self.check_size:
            check_metadata_size(results, *img.shape[:2])
        if self.to_float32:
            img = img.astype(np.float32)
        results['img'] = img
        results['img_shape'] = img.shape[:2]
        results['ori_shape'] = img.shape[:2]
        return results

    def __repr__(self):
        return (super().__repr__()[:-1] + f', check_size={self.check_size})')


@TRANSFORMS.register_module()
class LoadWSOLAnnotations(BaseTransform):
    """Check the decoded image against the metadata and load GT masks.

    Run right after ``LoadImageFromFile``. Ground truth stays in the ORIGINAL
    image frame under ``ori_gt_bboxes`` / ``ori_gt_mask`` — keys that the
    geometric transforms do not touch — because the protocol rescales GT to
    the evaluation size itself (boxes by truncation, masks by nearest).

    With ``seg_target`` it also writes ``gt_seg_map``, a copy of the
    ground truth as a per-pixel training target (the FSL baseline,
    ``docs/fsl_baseline.md``). Unlike ``ori_gt_*``, ``gt_seg_map`` is the
    key mmcv's ``Resize`` (nearest) and ``RandomFlip``, and fcam_mm's
    ``RandomCrop``, transform together with the image, so the target stays
    aligned with the pixels the model sees.

    Required keys: ``img``, ``img_path``, ``metadata_shape``; optional
    ``gt_bboxes``, ``mask_paths``/``ignore_path`` (metadata masks) or
    ``coco_segms``/``coco_crowd_segms`` (COCO polygons / RLE, with
    ``coco_ann_ids``/``coco_crowd_ann_ids`` to name them in errors).
    Added keys: ``ori_gt_bboxes``, ``ori_gt_mask``, ``gt_seg_map``
    (with ``seg_target``).

    Args:
        with_mask (bool): load masks when the sample has them.
        seg_target (str, optional): ``'mask'``: ``gt_seg_map`` is the GT
            mask (1 object, 0 background, 255 ignore); ``'boxes'``: the
            union of the filled GT boxes (:func:`fill_boxes`; 1 / 0).
            ``None`` (default): no training target. A sample without the
            named annotation is an error.
    """

    def __init__(self, with_mask: bool = True,
                 seg_target: Optional[str] = None):
        if seg_target is not None and seg_target not in SEG_TARGETS:
            raise ValueError(f'seg_target must be None or one of '
                             f'{SEG_TARGETS}, got {seg_target!r}')
        if seg_target == 'mask' and not with_mask:
            raise ValueError("seg_target='mask' needs with_mask=True")
        self.with_mask = with_mask
        self.seg_target = seg_target

    def transform(self, results: dict) -> dict:
        height, width = results['img'].shape[:2]
        check_metadata_size(results, height, width)
        if 'gt_bboxes' in results:
            results['ori_gt_bboxes'] = np.asarray(results.pop('gt_bboxes'),
                                                  np.float32).reshape(-1, 4)
        if self.with_mask:
            self._load_mask(results, height, width)
        if self.seg_target is not None:
            results['gt_seg_map'] = self._seg_target(results, height, width)
        return results

    def _seg_target(self, results: dict, height: int,
                    width: int) -> np.ndarray:
        if self.seg_target == 'mask':
            if 'ori_gt_mask' not in results:
                raise ValueError(
                    f"{results['img_path']}: seg_target='mask' but the "
                    'sample has no mask (give the dataset a mask_file)')
            return results['ori_gt_mask'].copy()
        if 'ori_gt_bboxes' not in results:
            raise ValueError(
                f"{results['img_path']}: seg_target='boxes' but the sample "
                'has no box (give the dataset a box_file)')
        return fill_boxes(results['ori_gt_bboxes'], height, width)

    def _load_mask(self, results: dict, height: int, width: int) -> None:
        if 'mask_paths' in results:
            paths = list(results['mask_paths'])
            # metadata_where['masks']: the mask file line of each instance
            # PNG; the ignore PNG is named on the first.
            lines = list((results.get('metadata_where') or {}).get(
                'masks') or [])
            wheres = [f' (listed on {lines[i]})' if i < len(lines) else ''
                      for i in range(len(paths))]
            if results.get('ignore_path'):
                paths.append(results['ignore_path'])
                wheres.append(wheres[0] if wheres else '')
            masks = [read_mask(p, w) for p, w in zip(paths, wheres)]
            for path, where, m in zip(paths, wheres, masks):
                if m.shape != (height, width):
                    raise DataFileError(
                        f'mask {path} is {m.shape[1]}x{m.shape[0]}, its '
                        f'image {results["img_path"]} is {width}x{height}'
                        f'{where}', path)
            num = len(results['mask_paths'])
            ignore = masks[num] if len(masks) > num else None
            results['ori_gt_mask'] = merge_instance_masks(
                masks[:num], ignore)
        elif 'coco_segms' in results:
            results['ori_gt_mask'] = self._coco_mask(results, height, width)

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
        return (f'{self.__class__.__name__}(with_mask={self.with_mask}, '
                f'seg_target={self.seg_target!r})')
