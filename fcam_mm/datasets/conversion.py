"""What the dataset converters (``tools/dataset_converters/``) share: the
base of their error classes, image sizes read as the loader will see them,
and the copy of a published val split's metadata.

Each converter raises its own subclass of :class:`ConversionError`
(``CUBFormatError``, ``ImageNetFormatError``, ``OpenImagesFormatError``), so a
caller may catch one converter's errors or all of them; the helpers here take
that class as ``error``.
"""
import os.path as osp

from .file_writing import write_lines
from .metadata import (MetadataError, read_boxes, read_class_labels,
                       read_image_ids, read_image_sizes)

#: EXIF tag 0x0112: how the stored pixels are to be turned for display.
EXIF_ORIENTATION = 0x0112
#: Orientations with a quarter turn: the displayed image swaps W and H.
QUARTER_TURNS = (5, 6, 7, 8)


class ConversionError(ValueError):
    """An input file of a dataset release that is missing, malformed or
    inconsistent; the message names the file (and line when there is
    one)."""


def header_image_size(path, oriented=True):
    """``(width, height)`` of the image at ``path``, read from the file
    header with PIL (the pixels are not decoded).

    ``oriented`` (default): the size ``LoadImageFromFile`` decodes, which
    is the size ``image_sizes.txt`` must hold. Its cv2 decoder applies the
    EXIF orientation, so an image whose tag is 5 to 8 (a quarter turn) has
    its stored width and height swapped. ``oriented=False``: the stored
    size, which is what mask PNGs are compared with (masks are read
    ``unchanged``, without the turn).

    Raises what PIL raises for a missing file or a bad header (OSError —
    ``PIL.UnidentifiedImageError`` is one —, SyntaxError or ValueError).
    """
    from PIL import Image
    with Image.open(path) as image:
        width, height = image.size
        turn = exif_orientation(image) if oriented else 1
    return (height, width) if turn in QUARTER_TURNS else (width, height)


def image_size(path, error=ConversionError, oriented=True):
    """:func:`header_image_size`, raising ``error`` naming the file when it
    is missing or not an image."""
    if not osp.isfile(path):
        raise error(f'{path}: no such file')
    try:
        return header_image_size(path, oriented)
    except (OSError, SyntaxError, ValueError) as e:
        # a broken header may raise SyntaxError or ValueError from a plugin
        raise error(f'{path}: not a readable image ({e})') from None


def exif_orientation(image):
    """The EXIF orientation of an open PIL image; 1 (none) when it has no
    tag or a broken EXIF block, which the decoder ignores too."""
    try:
        return image.getexif().get(EXIF_ORIENTATION, 1)
    except Exception:  # any error of PIL's EXIF parsing
        return 1


def size_note(path, size):
    """``''``, or a note for a size mismatch caused by the EXIF turn: the
    stored pixels of ``path`` are ``size`` but the loader turns them."""
    try:
        stored = image_size(path, oriented=False)
    except ConversionError:
        return ''
    if stored == size:
        return ''
    return (f' (stored as {stored[0]}x{stored[1]}; its EXIF orientation '
            'makes the loader turn it a quarter)')


VAL_FILES = ('image_ids', 'class_labels', 'image_sizes', 'localization')


def copy_val_metadata(folder, out_folder, source, error=ConversionError,
                      num_classes=None):
    """Copy a published val split's metadata (``image_ids``,
    ``class_labels``, ``image_sizes``, ``localization`` with boxes) from
    ``folder`` to ``out_folder``; returns its number of images.

    ``source`` names the set in messages (``'CUBV2'``, ``'ImageNetV2'``).
    The files are first read with the metadata readers (a bad line is an
    ``error`` naming file and line; labels must be below ``num_classes``
    when given) and must all list the images of ``image_ids.txt``. The
    lines are copied as they are (blank lines and a byte-order mark
    dropped); the images themselves are not looked at.
    """
    paths = {name: osp.join(folder, f'{name}.txt') for name in VAL_FILES}
    for path in paths.values():
        if not osp.isfile(path):
            raise FileNotFoundError(f"{path}: missing (--val-metadata is "
                                    f"{source}'s metadata/val folder)")
    try:
        ids = read_image_ids(paths['image_ids'])
        tables = dict(
            class_labels=read_class_labels(paths['class_labels'],
                                           num_classes),
            image_sizes=read_image_sizes(paths['image_sizes']))
        for name, table in tables.items():
            check_same_images(ids, table, paths[name], error)
        boxes = read_boxes(paths['localization'], tables['image_sizes'])
        check_same_images(ids, boxes, paths['localization'], error)
    except MetadataError as e:
        raise error(str(e)) from None
    for name, path in paths.items():
        with open(path, 'rb') as f:
            text = f.read().decode('utf-8-sig')  # the readers checked it
        write_lines(osp.join(out_folder, f'{name}.txt'),
                    [line.strip() for line in text.splitlines()
                     if line.strip()])
    return len(ids)


def check_same_images(ids, table, path, error):
    if set(table) != set(ids):
        example = sorted(set(table) ^ set(ids))[0]
        raise error(f'{path}: does not list the images of image_ids.txt '
                    f'(e.g. {example!r} is in one file only)')
