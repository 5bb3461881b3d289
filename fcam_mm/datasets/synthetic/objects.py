"""The ``objects`` preset: the stand-in for ImageNet pre-training.

Real WSOL benchmarks start from an encoder pre-trained on ImageNet, whose
classes are whole objects: a goldfinch, a mushroom, a goldfish — told
apart by the shape and colour of the entire object, among varied scenes.
Features learnt that way respond to objects as wholes, which is what a
CUB classifier inherits. This preset generates such a source task for the
CPU backbone: one object per image, of one of six *kinds* (bird, fruit,
leaf, fish, flower, mushroom) in one of six *colours*; the class is the
pair, so the evidence covers the whole object (its outline and all its
pixels). Scenes are the natural backgrounds and clutter of
:mod:`.scenery`; sizes and positions are broad (ImageNet's objects are not
centred like CUB's birds).

It is generated from its own seed and is a different family of images
from the ``cub_like`` benchmark (other shapes, saturated whole-object
colours, no head field marks): pre-training on it never sees the
benchmark's images, classes or class evidence.
"""
import math
from dataclasses import dataclass
from typing import List, Optional, Tuple

import cv2
import numpy as np

from .base import KnobsBase, Preset, distribution, image_rng
from .birds import bird_shape
from .colours import composite, hsv_to_rgb255, paint
from .scenery import branch_polygons, natural_background, photographed
from .shapes import (blob_polygon, coverage, ellipse_polygon,
                     ignore_band_and_box, rotate)
from .textures import smooth_noise

__all__ = ['GENERATOR_VERSION', 'KINDS', 'COLOURS', 'ObjectsKnobs',
           'class_names', 'render_sample', 'PRESET']

GENERATOR_VERSION = '1.0'
KINDS = ('bird', 'fruit', 'leaf', 'fish', 'flower', 'mushroom')
#: whole-object colours: name, hue range (degrees), saturation, value
COLOURS = (('red', (-10.0, 8.0), (0.6, 0.95), (0.5, 0.95)),
           ('orange', (20.0, 35.0), (0.7, 1.0), (0.7, 1.0)),
           ('yellow', (48.0, 60.0), (0.6, 1.0), (0.75, 1.0)),
           ('green', (90.0, 140.0), (0.5, 0.9), (0.35, 0.8)),
           ('blue', (200.0, 235.0), (0.5, 0.9), (0.45, 0.95)),
           ('purple', (270.0, 310.0), (0.4, 0.8), (0.35, 0.85)))


@dataclass(frozen=True)
class ObjectsKnobs(KnobsBase):
    """Knobs of the ``objects`` preset."""
    image_width_range: Tuple[int, int] = (160, 256)
    aspect_range: Tuple[float, float] = (0.75, 1.5)
    box_area_range: Tuple[float, float] = (0.06, 0.6)
    num_branches_range: Tuple[int, int] = (0, 2)

    def __post_init__(self):
        self._tuples_from_lists()
        self._check_range('image_width_range', int, 64, 2048)
        self._check_range('aspect_range', float, 0.25, 4.0)
        self._check_range('box_area_range', float, 0.005, 0.95)
        self._check_range('num_branches_range', int, 0, 10)


def max_classes(knobs=None) -> int:
    return len(KINDS) * len(COLOURS)


def class_names(num_classes: int, knobs=None) -> List[str]:
    """``'{colour}_{kind}'``; class ``k`` is kind ``k % 6``, colour
    ``k // 6``."""
    if (not isinstance(num_classes, (int, np.integer))
            or isinstance(num_classes, bool)
            or not 1 <= num_classes <= max_classes()):
        raise ValueError(f'num_classes must be an int in [1, '
                         f'{max_classes()}] for the objects preset '
                         f'({len(KINDS)} kinds x {len(COLOURS)} colours); '
                         f'got {num_classes!r}')
    return [f'{COLOURS[k // len(KINDS)][0]}_{KINDS[k % len(KINDS)]}'
            for k in range(num_classes)]


def _kind_polygons(rng, kind: str) -> Tuple[List[np.ndarray],
                                             List[np.ndarray]]:
    """Unit-size polygons of an object of ``kind``: the coloured ones and
    dark details (a stem, an eye, a flower's centre)."""
    if kind == 'bird':
        shape = bird_shape(rng)
        return shape.silhouette(), [ellipse_polygon(
            shape.eye_centre, shape.eye_radius, 1.0, 0.0, 16)]
    if kind == 'fruit':
        body = blob_polygon(rng) * 0.8
        body[:, 1] *= 0.9
        stem = np.array([[-0.05, -0.75], [0.05, -0.75], [0.1, -1.05],
                         [0.0, -1.05]])
        return [body], [stem]
    if kind == 'leaf':
        aspect = rng.uniform(2.2, 3.5)
        blade = ellipse_polygon(np.zeros(2), 1.0, 1.0 / aspect, 0.0, 48)
        blade[:, 0] *= 1 + 0.3 * np.sign(blade[:, 0])  # pointed tip
        rib = np.array([[-1.25, -0.02], [1.25, -0.02], [1.25, 0.02],
                        [-1.25, 0.02]])
        return [blade], [rib]
    if kind == 'fish':
        body = ellipse_polygon(np.zeros(2), 0.8, rng.uniform(0.35, 0.55),
                               0.0, 48)
        tail = np.array([[-0.6, 0.0], [-1.2, -0.4], [-1.1, 0.0],
                         [-1.2, 0.4]])
        return [body, tail], [ellipse_polygon(np.array([0.45, -0.08]), 0.07,
                                              1.0, 0.0, 12)]
    if kind == 'flower':
        petals = int(rng.integers(5, 9))
        parts = [ellipse_polygon(
            rotate(np.array([[0.55, 0.0]]), a)[0], 0.35, 0.45, a, 24)
            for a in np.linspace(0, 2 * math.pi, petals, endpoint=False)]
        return parts, [ellipse_polygon(np.zeros(2), 0.28, 1.0, 0.0, 24)]
    # mushroom: a cap over a stem
    cap = ellipse_polygon(np.array([0.0, -0.25]), 0.75, 0.45, 0.0, 48)
    cap = cap[cap[:, 1] <= -0.1] if (cap[:, 1] <= -0.1).sum() > 3 else cap
    stem = np.array([[-0.18, -0.15], [0.18, -0.15], [0.22, 0.75],
                     [-0.22, 0.75]])
    return [cap, stem], []


def render_sample(seed: int, split: str, index: int, label: int,
                  knobs: Optional[ObjectsKnobs] = None) -> dict:
    """Render image ``index`` of ``split`` with class ``label`` (the
    preset contract; the part mask is empty: these objects have no
    discriminative part)."""
    knobs = knobs or ObjectsKnobs()
    if not 0 <= label < max_classes():
        raise ValueError(f'label must be in [0, {max_classes()}), got '
                         f'{label}')
    kind = KINDS[label % len(KINDS)]
    colour_spec = COLOURS[label // len(KINDS)]
    rng = image_rng(seed, split, index)
    width = int(rng.integers(knobs.image_width_range[0],
                             knobs.image_width_range[1] + 1))
    height = int(round(width / rng.uniform(*knobs.aspect_range)))
    image, _ = natural_background(rng, height, width)
    bark = hsv_to_rgb255(rng.uniform(18, 35) / 360.0, rng.uniform(0.1, 0.45),
                         rng.uniform(0.15, 0.45))
    for _ in range(int(rng.integers(knobs.num_branches_range[0],
                                    knobs.num_branches_range[1] + 1))):
        limb = branch_polygons(rng, width, height,
                               rng.uniform(0.01, 0.035) * max(width, height))
        image = paint(image, bark + 6.0 * smooth_noise(rng, height, width,
                                                       2.0, 1),
                      coverage(limb, width, height))

    # the object: the kind's shape, posed, sized and placed anywhere it
    # fits. The class is the whole object, so unlike the benchmark presets
    # the label may change every draw from here on.
    parts, details = _kind_polygons(rng, kind)
    angle = rng.uniform(-math.pi / 3, math.pi / 3)
    facing = 1.0 if rng.uniform() < 0.5 else -1.0
    posed = [rotate(p * (facing, 1.0), angle) for p in parts + details]
    points = np.concatenate(posed[:len(parts)])
    low, high = points.min(0), points.max(0)
    extent = high - low
    area = math.exp(rng.uniform(*np.log(knobs.box_area_range)))
    scale = min(math.sqrt(area * width * height / (extent[0] * extent[1])),
                0.95 * width / extent[0], 0.95 * height / extent[1])
    size = extent * scale
    corner = np.array([rng.uniform(1, max(1.0, width - 1 - size[0])),
                       rng.uniform(1, max(1.0, height - 1 - size[1]))])
    placed = [p * scale - low * scale + corner for p in posed]
    object_alpha = coverage(placed[:len(parts)], width, height)
    object_mask = object_alpha >= 0.5
    if not object_mask.any():
        raise RuntimeError(f'empty object in {split} image {index}')
    x, y, w, h = cv2.boundingRect((object_alpha > 0).astype(np.uint8))
    window = (slice(y, y + h), slice(x, x + w))
    hue_range, sat_range, val_range = colour_spec[1:]
    u = rng.uniform(size=3)
    base = hsv_to_rgb255((hue_range[0] + u[0] * (hue_range[1] -
                                                 hue_range[0])) / 360.0,
                         sat_range[0] + u[1] * (sat_range[1] - sat_range[0]),
                         val_range[0] + u[2] * (val_range[1] - val_range[0]))
    shading = smooth_noise(rng, h, w, max(2.0, 0.2 * scale), 1)
    layer = base * (1.0 + 0.12 * shading) + 5.0 * smooth_noise(
        rng, h, w, 2.0, 1)
    if details:
        detail_alpha = coverage([p - (x, y) for p in placed[len(parts):]],
                                w, h)
        layer = composite(layer, np.full(3, 25.0, np.float32), detail_alpha)
    image[window] = composite(image[window], layer, object_alpha[window])
    image = photographed(image, rng)

    ignore_mask, box = ignore_band_and_box(object_mask, object_alpha)
    stats = dict(
        box_area_fraction=float((box[2] - box[0] + 1) * (box[3] - box[1] +
                                                         1)) / (width * height),
        object_area_fraction=float(object_mask.sum()) / (width * height))
    return dict(image=image, object_mask=object_mask,
                part_mask=np.zeros_like(object_mask),
                ignore_mask=ignore_mask, box=box, label=int(label),
                stats=stats)


def summarize(all_stats: List[dict]) -> dict:
    return {key: distribution([s[key] for s in all_stats])
            for key in ('box_area_fraction', 'object_area_fraction')}


PRESET = Preset(
    name='objects',
    version=GENERATOR_VERSION,
    knobs=ObjectsKnobs,
    render_sample=render_sample,
    class_names=class_names,
    max_classes=max_classes,
    description='whole objects of 6 kinds x 6 colours in natural scenes: the '
    'stand-in for ImageNet pre-training of the CPU backbone',
    summarize=summarize,
    default_num_classes=36)
