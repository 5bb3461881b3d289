"""Plain images into a config's test pipeline: what inference
(:mod:`fcam_mm.apis`) and the pictures of :mod:`fcam_mm.visualization`
both read — files, folders and globs, loaded and transformed as the
config's test split is, without its annotations."""
import copy
import glob
import os
import os.path as osp
from typing import List, Tuple, Union

import numpy as np
from mmengine.config import Config
from mmengine.dataset import Compose

from fcam_mm.registry import TRANSFORMS

ImageType = Union[str, np.ndarray]


class ImageLoadError(ValueError):
    """A file that is not a readable image, or an array that is not one."""


def find_images(source: str, recursive: bool = False
                ) -> Tuple[List[str], bool]:
    """The files ``source`` names, sorted, and whether it was a listing.

    A folder gives every (non-hidden) file in it — in sub-folders too with
    ``recursive`` — and a glob pattern every file it matches; such listings
    may hold non-images, which the caller skips and counts. A single file is
    taken as it is (an unreadable one is an error).
    """
    if osp.isdir(source):
        if recursive:
            files = [osp.join(root, name)
                     for root, dirs, names in os.walk(source)
                     for name in names if not name.startswith('.')]
        else:
            files = [osp.join(source, name) for name in os.listdir(source)
                     if not name.startswith('.')
                     and osp.isfile(osp.join(source, name))]
        if not files:
            raise FileNotFoundError(f'{source}: the folder has no files')
        return sorted(files), True
    if osp.isfile(source):
        return [source], False
    if glob.has_magic(source):
        files = sorted(p for p in glob.glob(source, recursive=recursive)
                       if osp.isfile(p))
        if not files:
            raise FileNotFoundError(f'{source}: the pattern matches no file')
        return files, True
    raise FileNotFoundError(f'{source}: no such image, folder or glob match')


def test_pipeline_without_annotations(cfg: Config) -> list:
    """The config's test pipeline without ground-truth loading."""
    steps = [copy.deepcopy(t) for t in cfg.test_dataloader.dataset.pipeline
             if t['type'] != 'LoadWSOLAnnotations']
    if not steps or steps[0]['type'] != 'LoadImageFromFile':
        raise ValueError('the test pipeline must start with '
                         'LoadImageFromFile, got '
                         f'{[t["type"] for t in steps]}')
    return steps


def image_item(image: ImageType, loader) -> dict:
    """The pipeline's input for a path (read by the config's
    ``LoadImageFromFile``) or a BGR uint8 array; :class:`ImageLoadError`
    names what is wrong."""
    if isinstance(image, str):
        if not osp.isfile(image):
            raise ImageLoadError(f'{image}: no such file')
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
    that callers can load (and skip unreadable files) before batching."""

    def __init__(self, cfg: Config):
        steps = test_pipeline_without_annotations(cfg)
        self.loader = TRANSFORMS.build(steps[0])
        self.transforms = Compose(steps[1:])

    def load(self, image: ImageType) -> dict:
        return image_item(image, self.loader)

    def __call__(self, item: dict) -> dict:
        return self.transforms(item)
