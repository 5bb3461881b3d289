"""Plain images into a config's test pipeline: what inference
(:mod:`fcam_mm.apis`) and the pictures of :mod:`fcam_mm.visualization`
both read — files, folders and globs, loaded and transformed as the
config's test split is, without its annotations.

Inputs are untrusted (a folder of downloads, a user's upload): nothing here
decodes, opens or descends into an entry before it has been checked.

- Listing (:func:`list_images`) stats every entry first; a symlink loop,
  a broken symlink and anything that is not a regular file (a FIFO, a
  socket, a device — which would block or never end when read) are
  returned as skipped, with the reason. Symlinks to files are followed,
  wherever they point. With ``recursive``, symlinks to folders are
  followed within the listed folder only, and each real folder (device
  and inode) is listed once: a link back to a folder already listed (a
  loop, ``up -> ..``, or a second link to the same folder) or out of the
  tree is skipped, so the walk ends, whatever the links.
- Loading (:func:`image_item`) refuses, before the decoder runs, a file
  larger than the cap allows (:data:`MAX_BYTES_PER_PIXEL`), a file whose
  header PIL cannot read (the format comes from the content, not the
  extension: ``notes.jpg`` holding text is refused, a PNG named ``x.dat``
  is read), and an image whose header declares more than ``max_pixels``
  pixels (:data:`DEFAULT_MAX_PIXELS`; a decompression bomb: a few hundred
  bytes declaring 30000x30000 would make the decoder allocate 2.7 GB).
  Reading the header (``PIL.Image.open(...).size``) decodes no pixel.
"""

import collections
import copy
import errno
import fnmatch
import glob
import logging
import os
import os.path as osp
import stat
import warnings
from dataclasses import dataclass, field
from typing import List, Optional, Sequence, Tuple, Union

import numpy as np
from mmengine.config import Config
from mmengine.dataset import Compose
from mmengine.logging import print_log

from fcam_mm.registry import TRANSFORMS

ImageType = Union[str, np.ndarray]

#: The default cap on an image's pixels (width x height, read from its
#: header before anything is decoded): PIL's own default
#: ``Image.MAX_IMAGE_PIXELS``, 2**30 // 4 // 3 = 89,478,485 (e.g. 9459x9459
#: or 11585x7723), the size above which PIL itself warns of a
#: decompression bomb. It admits phone and most camera photos (a 64 Mpx
#: phone photo is 9248x6936; not 100 Mpx medium-format ones) and is ~500x
#: a WSOL dataset's images (CUB, ILSVRC: about 500x375). What one image
#: costs grows with its pixels:
#: the decoded BGR image (3 B/px) and, in :func:`~fcam_mm.apis.
#: batch_inference.localize_images`, the maps, mask and overlay at the
#: image's own size — 20 to 25 B/px at peak (measured on CPU, overlays
#: on: +0.27 GB for 12 Mpx, +0.99 GB for 48 Mpx), so about 2 GB for an
#: image at the cap, plus 0.27 GB (its decoded pixels: a batch holds them
#: together) for each other such image of the batch. Raise it
#: (``max_pixels``, ``tools/infer.py --max-pixels``) for larger trusted
#: images; ``None`` / 0 turns the checks of size and header off. Above
#: 2x PIL's ``Image.MAX_IMAGE_PIXELS`` PIL refuses the header itself
#: (``DecompressionBombError``); raise that too to go further.
DEFAULT_MAX_PIXELS = 89_478_485

#: A file of more than ``MAX_BYTES_PER_PIXEL * max_pixels + 1 MiB`` bytes
#: is refused unread (the loader reads the whole file into memory): 8 B/px
#: is an uncompressed 16-bit RGBA image, the most any format needs per
#: pixel; the MiB is room for metadata (EXIF, ICC profiles, thumbnails).
MAX_BYTES_PER_PIXEL = 8
METADATA_BYTES = 1 << 20


class ImageLoadError(ValueError):
    """A file that is not a readable image, or an array that is not one."""


class ImageTooLargeError(ImageLoadError):
    """An image refused before decoding: its header declares more pixels,
    or the file holds more bytes, than the cap allows."""


@dataclass
class ImageListing:
    """What :func:`list_images` found: the regular files to read
    (``files``, sorted), the entries that cannot be (``skipped``: sorted
    ``(path, reason)``), and whether ``source`` was a listing (a folder or
    a glob) rather than one named file."""
    files: List[str] = field(default_factory=list)
    skipped: List[Tuple[str, str]] = field(default_factory=list)
    listing: bool = True


def _file_kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return 'a folder'
    if stat.S_ISFIFO(mode):
        return 'a FIFO'
    if stat.S_ISSOCK(mode):
        return 'a socket'
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return 'a device'
    return 'of an unknown kind'


def _unresolved(path: str, error: OSError) -> str:
    """Why ``os.stat(path)`` failed, in words."""
    if error.errno == errno.ELOOP:
        return 'a symlink loop (it never resolves to a file)'
    if error.errno == errno.ENOENT and osp.islink(path):
        try:
            target = os.readlink(path)
        except OSError:
            target = '?'
        return f'a broken symlink (to {target!r}, which does not resolve)'
    if error.errno == errno.ENOENT:
        return 'no such file'
    return f'cannot be read ({error.strerror})'


def file_problem(path: str) -> Optional[str]:
    """``None`` when ``path`` is (or links to) a regular file, else why not:
    a symlink loop, a broken symlink, no such file, a folder, a FIFO, a
    socket or a device. Only ``os.stat``: nothing is opened."""
    try:
        mode = os.stat(path).st_mode
    except OSError as e:
        return _unresolved(path, e)
    if stat.S_ISREG(mode):
        return None
    return f'not a regular file ({_file_kind(mode)})'


def _glob_parts_match(pattern: Sequence[str], parts: Sequence[str]) -> bool:
    """Whether the path components ``parts`` match the glob components
    ``pattern``, where a ``**`` component matches any number of components
    (none included) and the others match one, as ``fnmatch``."""
    # reach[j]: the first i pattern components can match parts[:j]
    reach = [True] + [False] * len(parts)
    for component in pattern:
        if component == '**':
            for j in range(1, len(parts) + 1):
                reach[j] = reach[j] or reach[j - 1]
        else:
            reach = [False] + [
                reach[j] and fnmatch.fnmatchcase(parts[j], component)
                for j in range(len(parts))]
    return reach[-1]


def _walk(top: str, recursive: bool, found: ImageListing,
          pattern: Optional[Sequence[str]] = None) -> None:
    """Add the regular files of the folder ``top`` (and of its sub-folders
    with ``recursive``) to ``found.files`` and the entries that are not to
    ``found.skipped``; hidden names are left out.

    Symlinks to files are followed wherever they point (as a file named
    directly would be). Symlinks to folders are followed within ``top``'s
    real path only — a link to ``/`` would walk the machine — and each real
    folder (device, inode) is listed once, breadth first, so a link back
    to a folder already listed (a loop, ``up -> ..``) is skipped, not
    descended: the walk visits each folder of the tree at most once. With
    ``pattern`` (glob components, relative to ``top``), only the files and
    entries that match it are kept (a skipped folder always is)."""
    def keep(path):
        return pattern is None or _glob_parts_match(
            pattern, osp.relpath(path, top or '.').split(os.sep))

    def inside(path):
        real = osp.realpath(path)
        return real == real_top or real.startswith(
            real_top.rstrip(os.sep) + os.sep)

    st = os.stat(top or '.')
    real_top = osp.realpath(top or '.')
    listed = {(st.st_dev, st.st_ino): top or '.'}
    queue = collections.deque([top])
    while queue:
        folder = queue.popleft()
        try:
            with os.scandir(folder or '.') as it:
                entries = sorted(it, key=lambda entry: entry.name)
        except OSError as e:
            if folder == top:
                raise
            found.skipped.append(
                (folder, f'a folder that cannot be listed ({e.strerror})'))
            continue
        folders = []
        for entry in entries:
            if entry.name.startswith('.'):
                continue
            path = osp.join(folder, entry.name)
            try:
                st = os.stat(path)  # through symlinks
            except OSError as e:
                if keep(path):
                    found.skipped.append((path, _unresolved(path, e)))
                continue
            if stat.S_ISDIR(st.st_mode):
                if recursive:
                    # real folders claim their identity before links do
                    folders.append((entry.is_symlink(), path, st))
            elif stat.S_ISREG(st.st_mode):
                if keep(path):
                    found.files.append(path)
            elif keep(path):
                found.skipped.append(
                    (path, f'not a regular file ({_file_kind(st.st_mode)})'))
        for link, path, st in sorted(folders):
            if link and not inside(path):
                found.skipped.append(
                    (path, f'a link to a folder outside {top or "."} '
                     f'({osp.realpath(path)}), not followed'))
                continue
            first = listed.setdefault((st.st_dev, st.st_ino), path)
            if first == path:
                queue.append(path)
            elif first == (top or '.') or path.startswith(first + os.sep):
                found.skipped.append(
                    (path, f'a symlink loop: a link back to {first}, '
                     'not followed'))
            else:
                found.skipped.append(
                    (path, f'a link to a folder already listed as {first}, '
                     'not followed again'))


def _glob(pattern: str, recursive: bool, found: ImageListing) -> None:
    """The files a glob matches. ``**`` with ``recursive`` walks the
    pattern's literal root with :func:`_walk` (Python's ``glob`` follows
    folder symlinks without end: two links to ``..`` never finish)."""
    parts = pattern.split(os.sep)
    if recursive and '**' in parts:
        depth = 0
        while not glob.has_magic(parts[depth]):
            depth += 1
        root = os.sep.join(parts[:depth]) or ('' if depth == 0 else os.sep)
        if osp.isdir(root or '.'):
            _walk(root, True, found, pattern=parts[depth:])
        return
    for path in glob.glob(pattern, recursive=recursive):
        problem = file_problem(path)
        if problem is None:
            found.files.append(path)
        elif not osp.isdir(path):  # folders are not files, not an error
            found.skipped.append((path, problem))


def list_images(source: str, recursive: bool = False) -> ImageListing:
    """The files ``source`` names, and the entries it names that are not
    regular files (see :class:`ImageListing`).

    A folder gives every (non-hidden) file in it — in sub-folders too with
    ``recursive`` — and a glob pattern every file it matches (``**`` with
    ``recursive``); such listings may hold non-images, which the loader
    refuses and the caller skips and counts. Symlinks are followed, to
    folders within ``source`` only, each folder once (see :func:`_walk`). A single file (or a broken symlink, a FIFO...)
    is taken as it is: the loader says what is wrong with it.
    """
    found = ImageListing()
    if osp.isdir(source):
        _walk(source, recursive, found)
        if not found.files and not found.skipped:
            raise FileNotFoundError(f'{source}: the folder has no files')
    elif osp.isfile(source) or (osp.lexists(source)
                                and not glob.has_magic(source)):
        return ImageListing([source], [], False)
    elif glob.has_magic(source):
        _glob(source, recursive, found)
        if not found.files and not found.skipped:
            raise FileNotFoundError(f'{source}: the pattern matches no file')
    else:
        raise FileNotFoundError(
            f'{source}: no such image, folder or glob match')
    found.files.sort()
    found.skipped.sort()
    return found


def find_images(source: str, recursive: bool = False
                ) -> Tuple[List[str], bool]:
    """The files ``source`` names, sorted, and whether it was a listing
    (:func:`list_images`); the entries it skips (symlink loops, broken
    links, FIFOs...) are logged, one warning each."""
    found = list_images(source, recursive)
    for path, reason in found.skipped:
        print_log(f'skipped {path}: {reason}', logger='current',
                  level=logging.WARNING)
    return found.files, found.listing


def check_image_file(path: str,
                     max_pixels: Optional[int] = DEFAULT_MAX_PIXELS
                     ) -> Optional[Tuple[int, int]]:
    """Check ``path`` before it is decoded; returns ``(width, height)`` from
    its header (``None`` when ``max_pixels`` is ``None`` or 0: then only
    that it is a regular file is checked).

    Raises :class:`ImageLoadError` naming the file when it is not a
    regular file (:func:`file_problem`) or PIL cannot read its header, and
    :class:`ImageTooLargeError` when the file holds more than
    ``MAX_BYTES_PER_PIXEL * max_pixels + METADATA_BYTES`` bytes or its
    header declares more than ``max_pixels`` pixels. Only the header is
    read: no pixel is decoded.
    """
    problem = file_problem(path)
    if problem is not None:
        raise ImageLoadError(f'{path}: {problem}')
    if not max_pixels:
        return None
    max_bytes = MAX_BYTES_PER_PIXEL * max_pixels + METADATA_BYTES
    try:
        size = os.stat(path).st_size
    except OSError as e:  # removed or replaced since the check above
        raise ImageLoadError(f'{path}: {_unresolved(path, e)}') from None
    if size > max_bytes:
        raise ImageTooLargeError(
            f'{path}: too large, not read: {size:,} bytes, over the '
            f'{max_bytes:,} allowed with the cap of {max_pixels:,} pixels '
            '(max_pixels, tools/infer.py --max-pixels)')
    from PIL import Image
    try:
        with warnings.catch_warnings():
            # the cap is ours; PIL's warning above its own is noise here
            warnings.simplefilter('ignore', Image.DecompressionBombWarning)
            with Image.open(path) as image:
                width, height = image.size
    except Image.DecompressionBombError as e:
        raise ImageTooLargeError(
            f'{path}: too large, not decoded: {e} (PIL\'s own limit, 2x '
            f'PIL.Image.MAX_IMAGE_PIXELS; the cap is {max_pixels:,} '
            'pixels)') from None
    except Image.UnidentifiedImageError:
        raise ImageLoadError(f'{path}: not a readable image (not an image '
                             'format PIL recognises)') from None
    except Exception as e:  # a broken header: OSError, SyntaxError, ...
        raise ImageLoadError(
            f'{path}: not a readable image (bad header: {e})') from None
    if width * height > max_pixels:
        raise ImageTooLargeError(
            f'{path}: too large, not decoded: its header declares '
            f'{width}x{height} = {width * height:,} pixels, over the cap of '
            f'{max_pixels:,} (max_pixels, tools/infer.py --max-pixels)')
    if width < 1 or height < 1:
        raise ImageLoadError(
            f'{path}: not a readable image (header size {width}x{height})')
    return width, height


def test_pipeline_without_annotations(cfg: Config) -> list:
    """The config's test pipeline without ground-truth loading."""
    steps = [copy.deepcopy(t) for t in cfg.test_dataloader.dataset.pipeline
             if t['type'] != 'LoadWSOLAnnotations']
    if not steps or steps[0]['type'] != 'LoadImageFromFile':
        raise ValueError('the test pipeline must start with '
                         'LoadImageFromFile, got '
                         f'{[t["type"] for t in steps]}')
    return steps


def image_item(image: ImageType, loader,
               max_pixels: Optional[int] = DEFAULT_MAX_PIXELS) -> dict:
    """The pipeline's input for a path (checked by
    :func:`check_image_file` — a regular file, a header PIL reads, at most
    ``max_pixels`` pixels — then read by the config's
    ``LoadImageFromFile``) or a BGR uint8 array (already in memory: not
    capped); :class:`ImageLoadError` names what is wrong."""
    if isinstance(image, str):
        check_image_file(image, max_pixels)
        try:
            item = loader(dict(img_path=image))
        except Exception as e:  # mmcv asserts or raises per decoder
            raise ImageLoadError(f'{image}: not a readable image ({e})') \
                from e
        if item is None or item.get('img') is None:
            raise ImageLoadError(f'{image}: not a readable image')
        return item
    if not isinstance(image, np.ndarray):
        raise ImageLoadError('an image must be a path or an HxWx3 uint8 '
                             f'array, got {type(image).__name__}')
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ImageLoadError('an array image must be HxWx3 uint8 (BGR), got '
                             f'{image.shape} {image.dtype}')
    if min(image.shape[:2]) < 1:
        raise ImageLoadError(f'an array image is empty: {image.shape}')
    return dict(img=image, img_path='<array>', img_shape=image.shape[:2],
                ori_shape=image.shape[:2])


class LocalizerPipeline:
    """The config's test pipeline split into image loading and the rest, so
    that callers can load (and skip unreadable files) before batching.
    ``max_pixels``: the cap :func:`check_image_file` applies to files
    (:data:`DEFAULT_MAX_PIXELS`; ``None`` for none)."""

    def __init__(self, cfg: Config,
                 max_pixels: Optional[int] = DEFAULT_MAX_PIXELS):
        steps = test_pipeline_without_annotations(cfg)
        self.loader = TRANSFORMS.build(steps[0])
        self.transforms = Compose(steps[1:])
        self.max_pixels = max_pixels

    def load(self, image: ImageType) -> dict:
        return image_item(image, self.loader, self.max_pixels)

    def __call__(self, item: dict) -> dict:
        return self.transforms(item)
