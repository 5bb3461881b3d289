"""Readers for the wsolevaluation metadata format (Choe et al., CVPR 2020).

A split folder holds plain comma-separated text files::

    image_ids.txt      path
    class_labels.txt   path,label
    image_sizes.txt    path,W,H
    localization.txt   path,x0,y0,x1,y1          (boxes, one line per box)
                  or   path,mask_png,ignore_png  (masks, one line per instance;
                                                  ignore only on the first,
                                                  later lines end in ',')

Files are UTF-8 (a leading BOM is dropped). Every reader reports a bad line
with its file and line number, because a silently dropped image changes the
denominator of every metric. The files that hold one value per image
(image ids, labels, sizes) reject a second line for the same image.
"""
import os.path as osp
from typing import Dict, Iterator, List, Tuple


class MetadataError(ValueError):
    """A metadata file is missing, malformed or inconsistent."""


class ImageIdList(list):
    """The image ids of ``path`` in file order; ``lines[image_id]`` is the
    line that lists the image."""

    def __init__(self, path: str):
        super().__init__()
        self.path = path
        self.lines: Dict[str, int] = {}


class MetadataTable(dict):
    """``{image_id: value}`` read from ``path``; ``lines[image_id]`` is the
    image's first line there, so later cross-file checks can name it."""

    def __init__(self, path: str):
        super().__init__()
        self.path = path
        self.lines: Dict[str, int] = {}


def iter_metadata_lines(path: str, min_fields: int, max_fields: int = None
                        ) -> Iterator[Tuple[int, List[str]]]:
    """Yield ``(line_number, fields)`` for each non-empty line of ``path``.

    Raises :class:`MetadataError` naming the file and line when a line does
    not have between ``min_fields`` and ``max_fields`` comma-separated fields.
    """
    max_fields = min_fields if max_fields is None else max_fields
    if not osp.isfile(path):
        raise MetadataError(f'metadata file not found: {path}')
    with open(path, 'rb') as f:
        data = f.read()
    # Decoded line by line so that a bad byte is reported with its line;
    # bytes.splitlines() splits on \n, \r\n and \r like text mode does.
    for lineno, raw in enumerate(data.splitlines(), start=1):
        try:
            # utf-8-sig on the first line: a BOM written by some editors
            # would otherwise become part of the first image id.
            line = raw.decode('utf-8-sig' if lineno == 1 else 'utf-8')
        except UnicodeDecodeError as e:
            raise MetadataError(
                f'{path}:{lineno}: not valid UTF-8 (byte '
                f'{raw[e.start]:#04x} at byte {e.start + 1} of the line); '
                'metadata files must be UTF-8 text') from None
        line = line.strip()
        if not line:
            continue
        fields = [field.strip() for field in line.split(',')]
        if not min_fields <= len(fields) <= max_fields:
            expected = (str(min_fields) if min_fields == max_fields else
                        f'{min_fields} to {max_fields}')
            raise MetadataError(
                f'{path}:{lineno}: expected {expected} comma-separated '
                f'fields, got {len(fields)}: {line!r}')
        if not fields[0]:
            raise MetadataError(f'{path}:{lineno}: empty image path')
        yield lineno, fields


def parse_number(text: str, kind, path: str, lineno: int, what: str):
    try:
        return kind(text)
    except ValueError:
        raise MetadataError(f'{path}:{lineno}: {what} must be '
                            f'{kind.__name__}, got {text!r}') from None


def check_not_seen(seen: Dict[str, int], image_id: str, path: str,
                   lineno: int):
    """Record ``image_id`` as listed on ``lineno``; raise naming both lines
    if a file that allows one line per image already listed it."""
    if image_id in seen:
        raise MetadataError(f'{path}:{lineno}: duplicate image '
                            f'{image_id!r} (first on line '
                            f'{seen[image_id]}); this file allows one line '
                            'per image')
    seen[image_id] = lineno


def read_image_ids(path: str) -> ImageIdList:
    image_ids = ImageIdList(path)
    for lineno, (image_id, ) in iter_metadata_lines(path, 1):
        check_not_seen(image_ids.lines, image_id, path, lineno)
        image_ids.append(image_id)
    if not image_ids:
        raise MetadataError(f'{path}: lists no image')
    return image_ids


def read_class_labels(path: str, num_classes: int = None) -> MetadataTable:
    """Return ``{image_id: label}``."""
    labels = MetadataTable(path)
    for lineno, (image_id, text) in iter_metadata_lines(path, 2):
        check_not_seen(labels.lines, image_id, path, lineno)
        label = parse_number(text, int, path, lineno, 'the class label')
        if label < 0 or (num_classes is not None and label >= num_classes):
            bound = '' if num_classes is None else f' < {num_classes}'
            raise MetadataError(f'{path}:{lineno}: class label {label} of '
                                f'{image_id!r} is out of range (0 <= label'
                                f'{bound})')
        labels[image_id] = label
    return labels


def read_image_sizes(path: str) -> MetadataTable:
    """Return ``{image_id: (width, height)}``."""
    sizes = MetadataTable(path)
    for lineno, (image_id, w, h) in iter_metadata_lines(path, 3):
        check_not_seen(sizes.lines, image_id, path, lineno)
        width = parse_number(w, int, path, lineno, 'the width')
        height = parse_number(h, int, path, lineno, 'the height')
        if width <= 0 or height <= 0:
            raise MetadataError(f'{path}:{lineno}: image size of '
                                f'{image_id!r} must be positive, got '
                                f'{width}x{height}')
        sizes[image_id] = (width, height)
    return sizes


def read_boxes(path: str, sizes: Dict[str, Tuple[int, int]]
               ) -> MetadataTable:
    """Return ``{image_id: [[x0, y0, x1, y1], ...]}`` (inclusive coords).

    A box must satisfy ``0 <= x0 <= x1 <= W`` and ``0 <= y0 <= y1 <= H``;
    ``x1 == W`` is accepted because some converted datasets store exclusive
    right/bottom edges, and the protocol clips predictions, not GT.
    """
    boxes = MetadataTable(path)
    for lineno, fields in iter_metadata_lines(path, 5):
        image_id = fields[0]
        x0, y0, x1, y1 = (parse_number(v, float, path, lineno, 'a box '
                                       'coordinate') for v in fields[1:])
        if image_id not in sizes:
            raise MetadataError(f'{path}:{lineno}: box for {image_id!r}, '
                                'which image_sizes.txt does not list')
        width, height = sizes[image_id]
        if not (0 <= x0 <= x1 <= width and 0 <= y0 <= y1 <= height):
            raise MetadataError(
                f'{path}:{lineno}: box ({x0:g}, {y0:g}, {x1:g}, {y1:g}) of '
                f'{image_id!r} is outside the {width}x{height} image or has '
                'x1 < x0 / y1 < y0')
        boxes.lines.setdefault(image_id, lineno)
        boxes.setdefault(image_id, []).append([x0, y0, x1, y1])
    return boxes


def read_masks(path: str) -> MetadataTable:
    """Return ``{image_id: ([mask_png, ...], ignore_png or None)}``.

    Every line has exactly three fields, ``image,mask_png,ignore_png``. An
    image with several instance masks has several lines; only its first line
    may name the ignore PNG, its later lines leave the third field empty
    (``image,mask_png,``). An empty third field on the first line means the
    image has no ignore region (``None``).

    ``masks.instance_lines[image_id]`` lists the line of each instance PNG
    (the ignore PNG is on the first), so load-time errors can name it.
    """
    masks = MetadataTable(path)
    masks.instance_lines: Dict[str, List[int]] = {}
    for lineno, (image_id, mask_path, ignore_path) in iter_metadata_lines(
            path, 3):
        if not mask_path:
            raise MetadataError(f'{path}:{lineno}: empty mask path for '
                                f'{image_id!r}')
        if image_id not in masks:
            masks.lines[image_id] = lineno
            masks.instance_lines[image_id] = [lineno]
            masks[image_id] = ([mask_path], ignore_path or None)
            continue
        if ignore_path:
            raise MetadataError(
                f'{path}:{lineno}: ignore mask {ignore_path!r} on a later '
                f'line of {image_id!r}; only its first line (line '
                f'{masks.lines[image_id]}) may name the ignore PNG, later '
                'lines must leave the third field empty')
        masks[image_id][0].append(mask_path)
        masks.instance_lines[image_id].append(lineno)
    return masks


def require_same_images(image_ids: List[str], table: dict, path: str,
                        what: str, allow_missing: bool = False):
    """Check that ``table`` (read from ``path``) covers ``image_ids``.

    The error names the offending line when the readers recorded it
    (:class:`MetadataTable` / :class:`ImageIdList`).
    """
    listed = set(image_ids)
    extra = [k for k in table if k not in listed]
    if extra:
        lineno = getattr(table, 'lines', {}).get(extra[0])
        where = path if lineno is None else f'{path}:{lineno}'
        raise MetadataError(f'{where}: image {extra[0]!r} is not in '
                            f'image_ids.txt ({len(extra)} such image(s) in '
                            'this file)')
    if not allow_missing:
        missing = [k for k in image_ids if k not in table]
        if missing:
            lineno = getattr(image_ids, 'lines', {}).get(missing[0])
            ids_path = getattr(image_ids, 'path', 'image_ids.txt')
            listed_at = ('' if lineno is None else
                         f' (listed on {ids_path}:{lineno})')
            raise MetadataError(f'{path}: no {what} for {len(missing)} '
                                f'image(s) of image_ids.txt, e.g. '
                                f'{missing[0]!r}{listed_at}')
