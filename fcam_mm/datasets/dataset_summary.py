"""What a built WSOL dataset split holds, and what is wrong with its files.

:func:`scan_split` walks every image of a split (a built
:class:`~fcam_mm.datasets.WSOLDataset`, or any dataset whose data infos
have the same keys) and returns a :class:`SplitSummary`: counts per class,
box sizes, image sizes, masks, and every file problem it finds, each named
by the metadata file and line that lists the file.

The metadata itself was checked when the dataset was built (a malformed
line is a :class:`~fcam_mm.datasets.MetadataError` then); this looks at
the files the metadata points to, which the build does not open:

- an image that does not exist (``image_ids.txt`` line) or whose header
  cannot be read (with ``decode=True``: whose pixels cannot be decoded);
- an image whose size is not the one of ``image_sizes.txt`` (that line);
  sizes come from the file header (no pixel decoding), with the EXIF
  orientation applied as OpenCV applies it when the loader decodes;
- a box outside the image it belongs to (box file line): the metadata
  reader already rejects boxes outside the ``image_sizes.txt`` size, so
  this only happens when that size is wrong;
- a mask or ignore PNG that does not exist, cannot be read, or whose size
  differs from its image's (mask file line).

All problems are collected; none stops the scan.
"""
import os.path as osp
from collections import Counter
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from .conversion import header_image_size
from .metadata import iter_metadata_lines


@dataclass
class Problem:
    """One file problem: ``where`` is ``metadata_file:line``."""
    where: str
    message: str

    def __str__(self):
        return f'{self.where}: {self.message}'


@dataclass
class SplitSummary:
    """The numbers of a split (see :func:`scan_split`).

    Box fractions and image sizes are those of the metadata
    (``image_sizes.txt``), the frame the protocol evaluates in.
    """
    split: str
    source: str
    classes: Tuple[str, ...]
    labels: np.ndarray
    widths: np.ndarray
    heights: np.ndarray
    has_boxes: bool = False
    box_fractions: np.ndarray = field(default_factory=lambda: np.zeros(0))
    boxes_per_image: List[int] = field(default_factory=list)
    has_masks: bool = False
    with_masks: int = 0
    with_ignore: int = 0
    problems: List[Problem] = field(default_factory=list)

    @property
    def num_images(self) -> int:
        return len(self.labels)

    @property
    def class_counts(self) -> np.ndarray:
        """Images per class index (0 for a class without images)."""
        return np.bincount(self.labels, minlength=len(self.classes))

    def fewest_classes(self, num: int = 5) -> List[Tuple[str, int]]:
        """The ``num`` classes with the fewest images, ``(name, count)``,
        ties in class order."""
        counts = self.class_counts
        order = sorted(range(len(counts)), key=lambda i: (counts[i], i))
        return [(self.classes[i], int(counts[i])) for i in order[:num]]

    def lines(self) -> List[str]:
        """The summary as printed by ``tools/misc/browse_dataset.py``."""
        return format_summary(self)


def decoded_image_size(path: str, exif_orientation: bool = True
                       ) -> Tuple[int, int]:
    """``(width, height)`` of the image decoded as ``LoadImageFromFile``
    decodes it (OpenCV); raises ``ValueError`` when it cannot be."""
    import mmcv
    from mmengine.fileio import get
    flag = 'color' if exif_orientation else 'unchanged'
    image = mmcv.imfrombytes(get(path), flag=flag, backend='cv2')
    if image is None:
        raise ValueError('OpenCV cannot decode it')
    return image.shape[1], image.shape[0]


class _Locations:
    """Where each file of a split is listed: ``file:line`` strings.

    For a :class:`~fcam_mm.datasets.WSOLDataset` the metadata files are
    read again for their line numbers (the dataset keeps none); any other
    dataset is located by its ``ann_file`` and the image id.
    """

    def __init__(self, dataset):
        self.fallback = str(getattr(dataset, 'ann_file', '') or '?')
        self.image_lines: Dict[str, str] = {}
        self.size_lines: Dict[str, str] = {}
        self.box_lines: Dict[str, List[str]] = {}
        self.mask_lines: Dict[str, List[Tuple[str, str, str]]] = {}
        from .wsol_dataset import WSOLDataset
        if isinstance(dataset, WSOLDataset):
            self._read(dataset)

    def _read(self, dataset):
        folder = dataset.ann_file
        for name, table in (('image_ids.txt', self.image_lines),
                            ('image_sizes.txt', self.size_lines)):
            path = osp.join(folder, name)
            for lineno, fields in iter_metadata_lines(path, 1, 3):
                table.setdefault(fields[0], f'{path}:{lineno}')
        if dataset.box_file is not None:
            path = osp.join(folder, dataset.box_file)
            for lineno, fields in iter_metadata_lines(path, 5):
                self.box_lines.setdefault(fields[0], []).append(
                    f'{path}:{lineno}')
        if dataset.mask_file is not None:
            path = osp.join(folder, dataset.mask_file)
            for lineno, fields in iter_metadata_lines(path, 3):
                self.mask_lines.setdefault(fields[0], []).append(
                    (f'{path}:{lineno}', fields[1], fields[2]))

    def image(self, image_id: str) -> str:
        return self.image_lines.get(image_id,
                                    f'{self.fallback} (image {image_id})')

    def size(self, image_id: str) -> str:
        return self.size_lines.get(image_id, self.image(image_id))

    def box(self, image_id: str, index: int) -> str:
        lines = self.box_lines.get(image_id, [])
        return (lines[index] if index < len(lines) else
                f'{self.image(image_id)} (box {index})')

    def masks(self, image_id: str, info: dict
              ) -> List[Tuple[str, str, str]]:
        """``(where, path, kind)`` of each mask PNG of the image in line
        order (the ignore PNG, ``kind`` ``'ignore mask'``, with the first
        line, which names it), paths as the dataset joined them."""
        lines = self.mask_lines.get(image_id, [])
        located = []
        for k, path in enumerate(info.get('mask_paths', [])):
            where = (lines[k][0] if k < len(lines) else
                     f'{self.image(image_id)} (mask {k})')
            located.append((where, path, 'mask'))
            if k == 0 and info.get('ignore_path'):
                located.append((where, info['ignore_path'], 'ignore mask'))
        return located


def _size_text(size: Tuple[int, int]) -> str:
    return f'{size[0]}x{size[1]}'


def _check_image(info: dict, where, problems: List[Problem], decode: bool,
                 exif_orientation: bool) -> Optional[Tuple[int, int]]:
    """The image's real ``(width, height)``, or None when it cannot be
    read (a problem is recorded)."""
    path = info['img_path']
    if not osp.isfile(path):
        problems.append(Problem(where, f'image {path} does not exist'))
        return None
    try:
        size = header_image_size(path, exif_orientation)
    except Exception as e:  # PIL raises several types for bad headers
        problems.append(Problem(where, f'image {path} cannot be read as an '
                                f'image ({type(e).__name__}: {e})'))
        return None
    if decode:
        try:
            size = decoded_image_size(path, exif_orientation)
        except Exception as e:  # decoders raise many types
            problems.append(Problem(where, f'image {path} cannot be '
                                    f'decoded ({e})'))
            return None
    return size


def _check_mask(where: str, path: str, kind: str, image_path: str,
                image_size: Tuple[int, int], problems: List[Problem],
                decode: bool):
    if not osp.isfile(path):
        problems.append(Problem(where, f'{kind} {path} does not exist'))
        return
    try:
        size = header_image_size(path, oriented=False)
        if decode:
            from .transforms.loading import read_mask
            mask = read_mask(path)
            size = (mask.shape[1], mask.shape[0])
    except Exception as e:  # header errors and read_mask's ValueError
        problems.append(Problem(where, f'{kind} {path} cannot be read '
                                f'({e})'))
        return
    if size != tuple(image_size):
        problems.append(Problem(
            where, f'{kind} {path} is {_size_text(size)} but its image '
            f'{image_path} is {_size_text(image_size)}'))


def _box_fraction(box, width: int, height: int) -> float:
    """Share of the image a box covers: inclusive pixel area (``x1 == W``,
    which the reader accepts, clipped to the last column/row)."""
    x0, y0, x1, y1 = box
    x1, y1 = min(x1, width - 1), min(y1, height - 1)
    area = max(0.0, x1 - x0 + 1) * max(0.0, y1 - y0 + 1)
    return area / float(width * height)


def _box_inside(box, width: int, height: int) -> bool:
    x0, y0, x1, y1 = box
    return 0 <= x0 <= x1 <= width and 0 <= y0 <= y1 <= height


def scan_split(dataset, split: str = '', decode: bool = False,
               exif_orientation: bool = True) -> SplitSummary:
    """Summarise ``dataset`` and check every file it lists.

    Args:
        dataset: a built dataset whose data infos have ``img_path``,
            ``img_id``, ``gt_label``, ``metadata_shape`` and optionally
            ``gt_bboxes``, ``mask_paths`` / ``ignore_path`` (or COCO's
            ``coco_segms`` / ``coco_crowd_segms``).
        split (str): the split's name, for the report.
        decode (bool): decode every image (and mask) fully; by default
            only the headers are read.
        exif_orientation (bool): the loader applies EXIF orientation
            (OpenCV's colour mode, ``LoadImageFromFile``'s default); False
            for ``color_type='unchanged'``.

    Returns:
        SplitSummary: its ``problems`` hold every problem found.
    """
    from .wsol_dataset import WSOLDataset
    where = _Locations(dataset)
    infos = [dataset.get_data_info(i) for i in range(len(dataset))]
    classes = tuple(dataset.metainfo.get('classes') or ())
    labels = np.array([int(info['gt_label']) for info in infos], np.int64)
    if not classes:
        classes = tuple(str(i) for i in range(int(labels.max()) + 1))
    heights = np.array([info['metadata_shape'][0] for info in infos])
    widths = np.array([info['metadata_shape'][1] for info in infos])
    if isinstance(dataset, WSOLDataset):
        has_boxes = dataset.box_file is not None
        has_masks = dataset.mask_file is not None
    else:
        has_boxes = any('gt_bboxes' in info for info in infos)
        has_masks = any('mask_paths' in info or 'coco_segms' in info
                        for info in infos)
    summary = SplitSummary(
        split=split, source=str(getattr(dataset, 'ann_file', '')),
        classes=classes, labels=labels, widths=widths, heights=heights,
        has_boxes=has_boxes, has_masks=has_masks)

    fractions = []
    for info in infos:
        image_id = info.get('img_id') or info['img_path']
        height, width = info['metadata_shape']
        real = _check_image(info, where.image(image_id), summary.problems,
                            decode, exif_orientation)
        if real is not None and real != (width, height):
            summary.problems.append(Problem(
                where.size(image_id),
                f'{image_id} is {width}x{height} in the metadata but '
                f'{info["img_path"]} is {_size_text(real)}'))
        boxes = np.asarray(info.get('gt_bboxes', np.zeros((0, 4))),
                           np.float64).reshape(-1, 4)
        if has_boxes:
            summary.boxes_per_image.append(len(boxes))
        for k, box in enumerate(boxes):
            fractions.append(_box_fraction(box, width, height))
            if real is not None and not _box_inside(box, *real):
                summary.problems.append(Problem(
                    where.box(image_id, k),
                    f'box ({", ".join(f"{v:g}" for v in box)}) of '
                    f'{image_id} is outside its {_size_text(real)} image '
                    f'{info["img_path"]}'))
        if info.get('mask_paths') or info.get('coco_segms'):
            summary.with_masks += 1
        if info.get('ignore_path') or info.get('coco_crowd_segms'):
            summary.with_ignore += 1
        reference = real if real is not None else (width, height)
        for mask_where, path, kind in where.masks(image_id, info):
            _check_mask(mask_where, path, kind, info['img_path'], reference,
                        summary.problems, decode)
    summary.box_fractions = np.array(fractions, np.float64)
    return summary


def _stats(values: Sequence[float], fmt: str = '{:g}',
           quartiles: bool = False) -> str:
    values = np.asarray(values, np.float64)
    if quartiles:
        q = np.percentile(values, [0, 25, 50, 75, 100])
        names = ('min', 'q1', 'median', 'q3', 'max')
    else:
        q = [values.min(), np.median(values), values.max()]
        names = ('min', 'median', 'max')
    return ', '.join(f'{n} {fmt.format(v)}' for n, v in zip(names, q))


def _plural(count: int, word: str, plural: Optional[str] = None) -> str:
    return f'{count} ' + (word if count == 1 else plural or word + 's')


def format_summary(summary: SplitSummary, fewest: int = 5) -> List[str]:
    """The lines printed for a split."""
    s = summary
    counts = s.class_counts
    lines = [
        f'{s.split} ({s.source}): {_plural(s.num_images, "image")}, '
        f'{_plural(len(s.classes), "class", "classes")}'
        f' ({int((counts > 0).sum())} with images)'
    ]
    fewest_text = ', '.join(f'{name} ({count})'
                            for name, count in s.fewest_classes(fewest))
    lines.append(f'  images per class: {_stats(counts)}; fewest: '
                 f'{fewest_text}')
    lines.append(f'  image size W: {_stats(s.widths)}; H: '
                 f'{_stats(s.heights)}')
    if s.has_boxes:
        per_image = Counter(s.boxes_per_image)
        spread = ', '.join(f'{_plural(n, "box", "boxes")}: '
                           f'{_plural(per_image[n], "image")}'
                           for n in sorted(per_image))
        lines.append(f'  boxes: {len(s.box_fractions)}; per image: '
                     f'{spread}')
        if len(s.box_fractions):
            lines.append('  box area / image area: '
                         f'{_stats(s.box_fractions, "{:.4f}", True)}')
    else:
        lines.append('  boxes: none (no box file in this split)')
    if s.has_masks:
        lines.append(f'  masks: {s.with_masks} images with masks, '
                     f'{s.with_ignore} with an ignore region')
    else:
        lines.append('  masks: none (no mask file in this split)')
    if s.problems:
        lines.append(f'  problems: {len(s.problems)}')
        lines += [f'    {p}' for p in s.problems]
    else:
        lines.append('  problems: none')
    return lines


def build_split_unchecked(cfg, split: str):
    """The dataset of ``cfg.{split}_dataloader``, built with
    ``check_files=False`` when it is a :class:`WSOLDataset` (so that
    :func:`scan_split` lists every missing file with its line instead of
    the build stopping at the first); malformed metadata still raises
    :class:`~fcam_mm.datasets.MetadataError`."""
    import copy

    from fcam_mm.registry import DATASETS
    from .wsol_dataset import WSOLDataset
    loader = cfg.get(f'{split}_dataloader')
    if loader is None or 'dataset' not in loader:
        raise KeyError(f'the config has no {split}_dataloader.dataset')
    dataset_cfg = copy.deepcopy(loader['dataset'])
    kind = dataset_cfg.get('type')
    cls = DATASETS.get(kind) if isinstance(kind, str) else kind
    if isinstance(cls, type) and issubclass(cls, WSOLDataset):
        dataset_cfg['check_files'] = False
    return DATASETS.build(dataset_cfg)
