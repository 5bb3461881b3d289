"""The embedded synthetic WSOL dataset: a deterministic generator.

It writes a small dataset in the wsolevaluation metadata format (boxes AND
masks) that is hard in the ways real weakly-supervised localization is hard,
so that a CAM or F-CAM result on it means something, yet small enough to be
generated in seconds and trained on a CPU. Only numpy and cv2 are used.

What an image contains (all class-neutral except the part colours)
-------------------------------------------------------------------
* A textured, cluttered **background**: regions of 2-4 muted colours blended
  by smooth random weights, plus, at random, fine smooth noise, stripes at a
  random angle and period, soft blobs, and pixel grain.
* **Distractors**: irregular blobs from the same shape generator, colour
  distribution and textures as object bodies (1-20 % of the image each),
  but never carrying a part. They are not objects: they never touch the
  object, and are outside the mask, the box and the ignore band.
* **Decoys** (some images): small saturated single-hue discs, the colours the
  parts use, on the background or on distractors. No class part is a single
  hue, so a decoy is never a class part; it punishes "saturated = object".
* ONE **object** = a body ∪ a discriminative part.

  - The **body** is an irregular smooth blob (a polar curve with random
    harmonics, elongated and rotated, sometimes with a second lobe) with a
    muted colour and a texture (plain, smooth noise, spots or stripes, plus
    a shading gradient). Its shape, colour and texture distribution is the
    same for every class. Its colour is chosen so that it differs by at
    least ``min_body_contrast`` (RGB Euclidean distance, 0-255 scale) from
    the mean colour of EVERY one of 8 angular sectors of a band of
    background around the object (or as far as possible in the rare case
    none of 50 candidate colours qualifies), so the boundary is
    recoverable from colour statistics (what a dense CRF needs).
  - The **part** (think: the head of a bird) is a small ellipse attached to
    the body's outline (partly inside, partly protruding), covering
    ``part_fraction_range`` of the object area. It is a ring of one
    saturated hue around a core of another hue; the ordered hue pair is
    the class. With 6 hues there are 30 classes (``MAX_CLASSES``). Each hue
    occurs in several classes, as ring and as core, so no single colour
    tells the class: a classifier has to find the ring/core combination and
    its CAM lands on the part, not on the body.

The label influences nothing but the part's two colours: rendering the same
image with another label changes only pixels the part covers (tested).

Annotations
-----------
* mask: pixels whose anti-aliased object coverage is >= 0.5 (body ∪ part).
* box: the tight bounding box of that mask, inclusive integer coordinates.
* ignore: a ~1 px band just outside the object (pixels partially covered by
  the object, plus the object's 8-neighbours); it never contains an object
  pixel. PxAP drops these pixels, whose label is ambiguous.

Determinism
-----------
Every image has its own ``np.random.Generator`` seeded from
``np.random.SeedSequence(seed, spawn_key=(split_id, index))``, so images do
not depend on generation order and a subset is stable: generating 40 images
per class gives the first 40x``num_classes`` images of a run with 80 per
class, byte for byte. The label of image ``index`` is
``index % num_classes``. Same seed and knobs ⇒ byte-identical files (on the
same numpy/OpenCV build; JPEG and PNG encoders are deterministic).

Knobs (arguments of :func:`generate_synthetic_dataset`)
-------------------------------------------------------
``seed`` (0)
    base seed of every per-image generator.
``num_classes`` (10)
    1..``MAX_CLASSES`` (30); class ``k`` is ``class_names()[k]``.
``per_class`` (train=80, val=10, test=30)
    images per class and split; labels are interleaved
    (``index % num_classes``), so every class gets exactly that many.
``image_size_range`` ((160, 256))
    W and H are drawn independently and uniformly in this inclusive range.
``object_area_range`` ((0.05, 0.60))
    visible object area (body ∪ part, inside the image) / image area,
    drawn log-uniformly, so small and large objects are equally common
    per octave.
``part_fraction_range`` ((0.08, 0.20))
    part area / object area (nominal; clipping at the border shifts it a
    little).
``min_visible_fraction`` (0.8)
    at least this fraction of the object lies inside the image (objects may
    touch or cross the border); the part is always entirely inside.
``border_prob`` (0.4)
    probability that the object is placed anywhere (then it often touches
    or crosses the border); otherwise it lies entirely inside the image
    when it fits (very large or elongated objects may not).
``num_distractors_range`` ((0, 3))
    inclusive range of the number of distractor blobs.
``distractor_area_range`` ((0.01, 0.20))
    area of one distractor / image area (log-uniform).
``decoy_prob`` (0.5)
    probability that an image gets 1-2 decoy discs.
``min_body_contrast`` (50.0)
    minimum RGB distance between the body colour and every local background
    sector mean (see above).
``hue_jitter_deg`` (8.0)
    uniform jitter of the part hues (they are 60 degrees apart).
``body_families`` (1)
    1: class-neutral bodies (the default). m > 1: class ``k`` is part
    pattern ``k // m`` with a body from colour family ``k % m`` (hue
    sectors, see :func:`body_family_hue_range`), so the body carries part
    of the class evidence; at most ``MAX_CLASSES * m`` classes.
``part_blend`` (0.0)
    0: a sharp part edge (the default). b > 0 (at most 3): the part's ring
    colour fades linearly into the body over b part radii (major
    semi-axis), so the part/body edge is soft while the body/background
    edge stays sharp; only object pixels near the part change.
``jpeg_quality`` (95)
    quality of the written JPEG images.
``save_part_masks`` (False)
    also write ``{split}_{i:05d}_part.png`` next to each mask (the
    discriminative part, for analysis of where CAMs land); not part of the
    wsolevaluation layout.
``overwrite`` (False)
    replace a previous output in ``out_dir`` (only the generator's own
    ``images/ masks/ metadata/ README.txt`` are removed).

Layout (``OUT = out_dir``)
--------------------------
::

    OUT/images/{split}/{label:02d}/{split}_{i:05d}.jpg
    OUT/masks/{split}/{label:02d}/{split}_{i:05d}_mask.png    255 = object
    OUT/masks/{split}/{label:02d}/{split}_{i:05d}_ignore.png  255 = ignore
    OUT/metadata/{split}/image_ids.txt          path
    OUT/metadata/{split}/class_labels.txt       path,label
    OUT/metadata/{split}/image_sizes.txt        path,W,H
    OUT/metadata/{split}/localization.txt       path,x0,y0,x1,y1
    OUT/metadata/{split}/localization_mask.txt  path,mask_png,ignore_png
    OUT/metadata/class_names.txt
    OUT/README.txt                              (written last)

See ``docs/synthetic_dataset.md`` for the reasoning and what the dataset is
not.
"""
import colorsys
import math
import os
import os.path as osp
import shutil
import time
from dataclasses import asdict, dataclass, fields
from typing import Dict, List, Optional, Tuple

import cv2
import numpy as np

__all__ = [
    'GENERATOR_VERSION', 'MAX_CLASSES', 'SPLITS', 'SyntheticKnobs',
    'class_names', 'body_family_hue_range', 'render_sample', 'generate_synthetic_dataset',
    'make_preview'
]

#: Bump whenever the same arguments would produce different files.
GENERATOR_VERSION = '1.0'
SPLITS = ('train', 'val', 'test')
SPLIT_IDS = {'train': 0, 'val': 1, 'test': 2}
DEFAULT_PER_CLASS = dict(train=80, val=10, test=30)

#: The saturated hues the parts are made of (name, degrees); 60 degrees
#: apart so that ``hue_jitter_deg`` up to ~20 keeps them distinct.
PART_HUES = (('red', 0.0), ('yellow', 60.0), ('green', 120.0),
             ('cyan', 180.0), ('blue', 240.0), ('magenta', 300.0))

# Class k = ordered (ring hue, core hue) pair with different hues, listed by
# hue offset first, so the first classes use every hue as ring and as core.
CLASS_HUE_PAIRS = tuple((ring, (ring + offset) % len(PART_HUES))
                        for offset in range(1, len(PART_HUES))
                        for ring in range(len(PART_HUES)))
MAX_CLASSES = len(CLASS_HUE_PAIRS)
MAX_BODY_FAMILIES = 4

SUPERSAMPLE = 4  # anti-aliasing factor of the coverage rasteriser
_FIXED_POINT_BITS = 4  # sub-pixel precision passed to cv2.fillPoly
NUM_CONTRAST_SECTORS = 8
NUM_BODY_COLOUR_CANDIDATES = 48


@dataclass(frozen=True)
class SyntheticKnobs:
    """Per-image appearance knobs (see the module docstring)."""
    image_size_range: Tuple[int, int] = (160, 256)
    object_area_range: Tuple[float, float] = (0.05, 0.60)
    part_fraction_range: Tuple[float, float] = (0.08, 0.20)
    min_visible_fraction: float = 0.8
    border_prob: float = 0.4
    num_distractors_range: Tuple[int, int] = (0, 3)
    distractor_area_range: Tuple[float, float] = (0.01, 0.20)
    decoy_prob: float = 0.5
    min_body_contrast: float = 50.0
    hue_jitter_deg: float = 8.0
    body_families: int = 1
    part_blend: float = 0.0

    def __post_init__(self):
        for f in fields(self):  # lists (from JSON/CLI) become tuples
            value = getattr(self, f.name)
            if isinstance(value, list):
                object.__setattr__(self, f.name, tuple(value))
        self._check_range('image_size_range', int, 32, 4096)
        self._check_range('object_area_range', float, 1e-4, 1.0)
        self._check_range('part_fraction_range', float, 0.01, 0.5)
        self._check_range('num_distractors_range', int, 0, 20)
        self._check_range('distractor_area_range', float, 1e-4, 0.5)
        self._check_scalar('min_visible_fraction', 0.05, 1.0)
        self._check_scalar('decoy_prob', 0.0, 1.0)
        self._check_scalar('border_prob', 0.0, 1.0)
        self._check_scalar('min_body_contrast', 0.0, 200.0)
        self._check_scalar('hue_jitter_deg', 0.0, 25.0)
        self._check_scalar('part_blend', 0.0, 3.0)
        if (not isinstance(self.body_families, (int, np.integer))
                or isinstance(self.body_families, bool)
                or not 1 <= self.body_families <= MAX_BODY_FAMILIES):
            raise ValueError(f'body_families must be an int in [1, '
                             f'{MAX_BODY_FAMILIES}], got '
                             f'{self.body_families!r}')

    def _check_range(self, name, kind, low, high):
        value = getattr(self, name)
        if (not isinstance(value, tuple) or len(value) != 2
                or not all(isinstance(v, (int, float)) and
                           not isinstance(v, bool) for v in value)):
            raise ValueError(f'{name} must be a pair (low, high) of numbers, '
                             f'got {value!r}')
        if kind is int and not all(float(v).is_integer() for v in value):
            raise ValueError(f'{name} must hold integers, got {value!r}')
        if not low <= value[0] <= value[1] <= high:
            raise ValueError(f'{name} must satisfy {low} <= low <= high <= '
                             f'{high}, got {value!r}')
        object.__setattr__(self, name, tuple(kind(v) for v in value))

    def _check_scalar(self, name, low, high):
        value = getattr(self, name)
        if (not isinstance(value, (int, float)) or isinstance(value, bool)
                or not low <= value <= high):
            raise ValueError(f'{name} must be a number in [{low}, {high}], '
                             f'got {value!r}')


def class_names(num_classes: int = MAX_CLASSES,
                body_families: int = 1) -> List[str]:
    """Names of the first ``num_classes`` classes, in label order, e.g.
    ``'red_ring_yellow_core'`` (ring hue, then core hue of the part), with
    ``_body{j}`` appended when there are several body colour families
    (class ``k``: part pattern ``k // body_families``, family
    ``k % body_families``)."""
    _check_num_classes(num_classes, body_families)
    names = []
    for label in range(num_classes):
        pattern, family = divmod(label, body_families)
        ring, core = CLASS_HUE_PAIRS[pattern]
        name = f'{PART_HUES[ring][0]}_ring_{PART_HUES[core][0]}_core'
        names.append(name if body_families == 1 else f'{name}_body{family}')
    return names


def _check_num_classes(num_classes, body_families=1):
    if (not isinstance(num_classes, (int, np.integer))
            or isinstance(num_classes, bool)):
        raise TypeError(f'num_classes must be an int, got {num_classes!r}')
    most = MAX_CLASSES * body_families
    if not 1 <= num_classes <= most:
        raise ValueError(
            f'num_classes must be in [1, {most}]: the parts are ordered '
            f'pairs of {len(PART_HUES)} distinct hues ({MAX_CLASSES} '
            f'patterns), times {body_families} body colour famil'
            f'{"y" if body_families == 1 else "ies"}; got {num_classes}')


# --------------------------------------------------------------------------
# colours
# --------------------------------------------------------------------------
def _hsv_to_rgb255(h, s, v) -> np.ndarray:
    return np.array(colorsys.hsv_to_rgb(h % 1.0, s, v), np.float32) * 255.0


def _muted_colour(rng) -> np.ndarray:
    """The class-neutral colour distribution of bodies, distractors and
    background elements: any hue, low saturation, any brightness."""
    hue = rng.uniform(0, 1)
    saturation = rng.uniform(0.05, 0.45)
    value = rng.uniform(0.2, 0.95)
    return _hsv_to_rgb255(hue, saturation, value)


def body_family_hue_range(family: int, body_families: int
                          ) -> Tuple[float, float]:
    """Hue interval (degrees, centre ± half-width) of body colour family
    ``family`` out of ``body_families``: the hue circle cut into equal
    sectors from 30° on, each family taking the middle 75 % of its sector
    (2 families: 345°–75° "warm" and 165°–255° "cool")."""
    sector = 360.0 / body_families
    return (30.0 + family * sector) % 360.0, 0.375 * sector


def _body_colour_candidate(draws, family_hue=None):
    """A body colour from three pre-drawn uniforms: the class-neutral muted
    distribution when ``family_hue`` is None, else a muted colour whose hue
    lies in ``family_hue = (centre, half_width)`` (saturation 0.2–0.45 and
    brightness 0.35–0.95, so that the hue shows). The same draws serve both,
    so the label changes the colour, never the number of random draws."""
    u_hue, u_sat, u_val = draws
    if family_hue is None:
        # the expressions of Generator.uniform(low, high): the bytes of
        # _muted_colour
        return _hsv_to_rgb255(u_hue, 0.05 + (0.45 - 0.05) * u_sat,
                              0.2 + (0.95 - 0.2) * u_val)
    centre, half_width = family_hue
    hue = (centre + (2 * u_hue - 1) * half_width) / 360.0
    return _hsv_to_rgb255(hue, 0.2 + 0.25 * u_sat, 0.35 + 0.6 * u_val)


def _saturated_colour(hue_deg, jitter_draws, hue_jitter_deg) -> np.ndarray:
    """A part/decoy colour from pre-drawn uniforms (so the number of random
    draws never depends on the hue, i.e. on the label)."""
    u_hue, u_sat, u_val = jitter_draws
    hue = (hue_deg + (2 * u_hue - 1) * hue_jitter_deg) / 360.0
    return _hsv_to_rgb255(hue, 0.75 + 0.25 * u_sat, 0.75 + 0.25 * u_val)


# --------------------------------------------------------------------------
# textures
# --------------------------------------------------------------------------
def _smooth_noise(rng, height, width, cell, channels=1) -> np.ndarray:
    """Zero-mean, unit-std noise, smooth at the scale of ``cell`` pixels."""
    grid_h = max(2, int(math.ceil(height / cell)) + 1)
    grid_w = max(2, int(math.ceil(width / cell)) + 1)
    grid = rng.standard_normal((grid_h, grid_w, channels)).astype(np.float32)
    # normalising the small grid is cheap; bicubic upsampling of white noise
    # keeps the std near 0.7 of it, so rescale by a constant
    grid -= grid.mean(axis=(0, 1), keepdims=True)
    grid /= grid.std(axis=(0, 1), keepdims=True) * 0.7 + 1e-6
    noise = cv2.resize(grid, (width, height), interpolation=cv2.INTER_CUBIC)
    return noise.reshape(height, width, channels)


def _stripes(rng, height, width, period_range) -> np.ndarray:
    """A (H, W, 1) stripe pattern in [-1, 1], random angle/period/sharpness."""
    angle = rng.uniform(0, math.pi)
    period = rng.uniform(*period_range)
    phase = rng.uniform(0, 2 * math.pi)
    sharpness = rng.uniform(1.0, 4.0)
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    t = (xs * math.cos(angle) + ys * math.sin(angle)) * (2 * math.pi / period)
    wave = np.tanh(sharpness * np.sin(t + phase)) / math.tanh(sharpness)
    return wave[..., None]


def _colour_direction(rng) -> np.ndarray:
    """A unit RGB direction biased towards luminance (texture contrast)."""
    direction = np.ones(3, np.float32) + 0.6 * rng.standard_normal(3).astype(
        np.float32)
    return direction / (np.linalg.norm(direction) + 1e-6)


def _texture_offset(rng, height, width, scale) -> np.ndarray:
    """The class-neutral texture shared by bodies and distractors, as an
    offset (H, W, 3) to add to the base colour.

    ``scale`` is the object's linear size in pixels, so patterns scale with
    the object. The amplitude (8-20, spots up to 30) stays below
    ``min_body_contrast`` so that the mean colour keeps telling the object
    from its surroundings.
    """
    kind = rng.integers(4)  # 0 plain, 1 smooth noise, 2 spots, 3 stripes
    amplitude = rng.uniform(8.0, 20.0)
    offset = np.zeros((height, width, 3), np.float32)
    if kind == 1:
        offset += amplitude * _smooth_noise(
            rng, height, width, max(3.0, scale * rng.uniform(0.05, 0.2)), 3)
    elif kind == 2:
        spots = _smooth_noise(rng, height, width,
                              max(2.0, scale * rng.uniform(0.04, 0.1)))
        spots = np.clip((spots - 0.8) * 3.0, 0.0, 1.0)  # sparse blobs
        sign = 1.0 if rng.uniform() < 0.5 else -1.0
        offset += sign * 1.5 * amplitude * spots * _colour_direction(rng)
    elif kind == 3:
        period = (max(4.0, scale * 0.06), max(6.0, scale * 0.25))
        offset += amplitude * _stripes(rng, height, width, period) * \
            _colour_direction(rng)
    # shading: a linear brightness gradient across the object
    angle = rng.uniform(0, 2 * math.pi)
    strength = rng.uniform(0.0, 15.0)
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    ramp = (xs * math.cos(angle) + ys * math.sin(angle)) / max(scale, 1.0)
    ramp -= ramp.mean()
    offset += (strength * np.clip(ramp, -1.0, 1.0))[..., None]
    return offset


def _background(rng, height, width) -> np.ndarray:
    """A textured, cluttered background (float RGB, 0-255 scale).

    Regions of 2-4 muted colours (the same distribution as bodies) blended
    by smooth random weights, then at random: fine smooth noise, stripes,
    soft blobs. Grain is added to the whole image later.
    """
    num_colours = int(rng.integers(2, 5))
    palette = np.stack([_muted_colour(rng) for _ in range(num_colours)])
    cell = rng.uniform(40.0, 140.0)
    logits = rng.uniform(1.5, 4.0) * _smooth_noise(rng, height, width, cell,
                                                   num_colours)
    weights = np.exp(logits - logits.max(axis=2, keepdims=True))
    weights /= weights.sum(axis=2, keepdims=True)
    field = weights @ palette
    field += 12.0 * _smooth_noise(rng, height, width, cell, 1) * \
        _colour_direction(rng)
    if rng.uniform() < 0.6:  # fine smooth noise
        field += rng.uniform(5.0, 15.0) * _smooth_noise(
            rng, height, width, rng.uniform(2.0, 8.0), 1) * \
            _colour_direction(rng)
    if rng.uniform() < 0.4:  # stripes
        field += rng.uniform(8.0, 25.0) * _stripes(
            rng, height, width, (6.0, 40.0)) * _colour_direction(rng)
    if rng.uniform() < 0.6:  # soft blobs
        for _ in range(rng.integers(3, 10)):
            blob = np.zeros((height, width), np.float32)
            centre = (int(rng.integers(width)), int(rng.integers(height)))
            axes = (int(rng.integers(6, max(7, width // 4))),
                    int(rng.integers(6, max(7, height // 4))))
            cv2.ellipse(blob, centre, axes, float(rng.uniform(0, 180)), 0,
                        360, 1.0, -1)
            blob = cv2.GaussianBlur(blob, (0, 0), rng.uniform(1.0, 6.0))
            alpha = rng.uniform(0.25, 0.7) * blob[..., None]
            field = field * (1 - alpha) + _muted_colour(rng) * alpha
    return field


# --------------------------------------------------------------------------
# geometry
# --------------------------------------------------------------------------
def _blob_polygon(rng, num_points=96) -> np.ndarray:
    """An irregular smooth closed curve around the origin, radius ~1."""
    theta = np.linspace(0, 2 * math.pi, num_points, endpoint=False)
    radius = np.ones(num_points)
    for k in range(2, 7):
        radius += rng.uniform(0, 0.22) / k**0.6 * np.cos(
            k * theta + rng.uniform(0, 2 * math.pi))
    radius = np.maximum(radius, 0.3)
    points = np.stack([radius * np.cos(theta), radius * np.sin(theta)], 1)
    elongation = math.sqrt(rng.uniform(1.0, 2.2))
    points *= (elongation, 1.0 / elongation)
    return _rotate(points, rng.uniform(0, 2 * math.pi))


def _rotate(points, angle):
    c, s = math.cos(angle), math.sin(angle)
    return points @ np.array([[c, s], [-s, c]])


def _body_polygons(rng) -> List[np.ndarray]:
    """A body (or distractor) shape: one blob, sometimes with a second lobe
    (non-convex silhouettes, so a box is not the whole story)."""
    polygons = [_blob_polygon(rng)]
    if rng.uniform() < 0.35:
        lobe = _blob_polygon(rng) * rng.uniform(0.4, 0.7)
        direction = rng.uniform(0, 2 * math.pi)
        offset = rng.uniform(0.6, 0.9) * np.array(
            [math.cos(direction), math.sin(direction)])
        polygons.append(lobe + offset)
    return polygons


def _ellipse_polygon(centre, radius, aspect, angle, num_points=48):
    theta = np.linspace(0, 2 * math.pi, num_points, endpoint=False)
    points = np.stack([radius * aspect**-0.5 * np.cos(theta),
                       radius * aspect**0.5 * np.sin(theta)], 1)
    return _rotate(points, angle) + centre


def _fill(canvas, polygons, to_canvas):
    """Fill each polygon separately (cv2.fillPoly XORs overlapping ones)."""
    scale = 1 << _FIXED_POINT_BITS
    for polygon in polygons:
        points = np.round(to_canvas(polygon) * scale).astype(np.int32)
        cv2.fillPoly(canvas, [points], 1, cv2.LINE_8, _FIXED_POINT_BITS)


def _raster(polygons, width, height) -> np.ndarray:
    """Binary (pixel-centre) rasterisation, for fast area estimates."""
    canvas = np.zeros((height, width), np.uint8)
    _fill(canvas, polygons, lambda p: p)
    return canvas


def _coverage(polygons, width, height) -> np.ndarray:
    """Anti-aliased coverage in [0, 1] of the union of ``polygons``.

    Pixel ``(x, y)`` is the square centred on integer ``(x, y)`` (cv2's
    convention); it is sampled on a ``SUPERSAMPLE``² grid, and only the
    polygons' bounding box is rasterised.
    """
    coverage = np.zeros((height, width), np.float32)
    if not polygons:
        return coverage
    stacked = np.concatenate(polygons)
    x0 = max(0, int(math.floor(stacked[:, 0].min())) - 1)
    y0 = max(0, int(math.floor(stacked[:, 1].min())) - 1)
    x1 = min(width, int(math.ceil(stacked[:, 0].max())) + 2)
    y1 = min(height, int(math.ceil(stacked[:, 1].max())) + 2)
    if x1 <= x0 or y1 <= y0:
        return coverage
    s = SUPERSAMPLE
    canvas = np.zeros(((y1 - y0) * s, (x1 - x0) * s), np.uint8)
    offset = np.array([x0, y0], np.float64)
    _fill(canvas, polygons, lambda p: (p - offset + 0.5) * s - 0.5)
    coverage[y0:y1, x0:x1] = cv2.resize(
        canvas.astype(np.float32), (x1 - x0, y1 - y0),
        interpolation=cv2.INTER_AREA)
    return coverage


def _unit_area(polygons, pixels_per_unit=40, half_extent=5):
    """Area of the union of unit-scale polygons (raster estimate)."""
    size = 2 * half_extent * pixels_per_unit
    placed = [p * pixels_per_unit + size / 2 for p in polygons]
    return _raster(placed, size, size).sum() / float(pixels_per_unit)**2


@dataclass
class _ObjectLayout:
    body: List[np.ndarray]  # polygons in image coordinates
    part: np.ndarray
    core: np.ndarray
    scale: float  # linear size in pixels (sqrt of the full object area)
    part_radius: float  # the part ellipse's major semi-axis in pixels


def _layout_object(rng, width, height, knobs: SyntheticKnobs) -> _ObjectLayout:
    """Shape, size and position of body and part.

    The visible (in-image) area of body ∪ part is fitted to a log-uniform
    target; positions are retried until at least ``min_visible_fraction`` of
    the object is inside the image and the part is entirely inside.
    """
    image_area = width * height
    low, high = knobs.object_area_range
    target = math.exp(rng.uniform(math.log(low), math.log(high))) * image_area
    part_fraction = rng.uniform(*knobs.part_fraction_range)
    best = None
    for _ in range(60):
        body = _body_polygons(rng)
        # area of the unit-scale body (raster estimate)
        unit_body_area = _unit_area(body)
        part_radius = math.sqrt(part_fraction * unit_body_area / math.pi)
        anchor = body[0][rng.integers(len(body[0]))]
        outward = anchor / (np.linalg.norm(anchor) + 1e-9)
        part_centre = anchor + outward * part_radius * rng.uniform(-0.6, 0.25)
        part_aspect = rng.uniform(0.75, 1.0)
        part_angle = rng.uniform(0, math.pi)
        core_ratio = rng.uniform(0.45, 0.6)
        part = _ellipse_polygon(part_centre, part_radius, part_aspect,
                                part_angle)
        core = _ellipse_polygon(part_centre, part_radius * core_ratio,
                                part_aspect, part_angle)
        unit_object = body + [part]
        unit_area = _unit_area(unit_object)
        scale = math.sqrt(target / unit_area)
        points = np.concatenate(unit_object) * scale
        low_corner, high_corner = points.min(0), points.max(0)
        fits = (high_corner - low_corner <= (width - 3, height - 3)).all()
        if rng.uniform() >= knobs.border_prob and fits:
            # entirely inside the image (no fitting needed)
            centre = np.array([
                rng.uniform(1 - low_corner[0], width - 2 - high_corner[0]),
                rng.uniform(1 - low_corner[1], height - 2 - high_corner[1])
            ])
        else:  # anywhere: may cross the border
            centre = np.array([rng.uniform(0, width),
                               rng.uniform(0, height)])
        for _ in range(6):  # fit the visible area to the target
            visible = _raster([p * scale + centre for p in unit_object],
                              width, height).sum()
            if visible == 0:
                break
            if abs(visible / target - 1.0) < 0.02:
                break
            scale *= math.sqrt(target / visible)
        full = unit_area * scale**2
        part_img = part * scale + centre
        part_inside = (part_img[:, 0].min() >= 0.5
                       and part_img[:, 0].max() <= width - 1.5
                       and part_img[:, 1].min() >= 0.5
                       and part_img[:, 1].max() <= height - 1.5)
        visible_fraction = visible / full
        layout = _ObjectLayout([p * scale + centre for p in body], part_img,
                               core * scale + centre, math.sqrt(full),
                               part_radius * scale)
        if part_inside and visible_fraction >= knobs.min_visible_fraction:
            return layout
        score = visible_fraction + (1.0 if part_inside else 0.0)
        if best is None or score > best[0]:
            best = (score, layout)
    return best[1]  # very rare: the best attempt


def _place_away_from(rng, polygons_unit, size_px, keep_out, width, height,
                     tries=12) -> Optional[List[np.ndarray]]:
    """Put a shape (unit coordinates) of linear size ``size_px`` at a random
    position where it does not touch ``keep_out``; None if none found."""
    for _ in range(tries):
        centre = np.array([rng.uniform(0, width), rng.uniform(0, height)])
        placed = [p * size_px + centre for p in polygons_unit]
        footprint = _raster(placed, width, height)
        if footprint.any() and not (footprint & keep_out).any():
            return placed
    return None


def _dilate(mask, radius):
    size = 2 * int(radius) + 1
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size))
    return cv2.dilate(mask.astype(np.uint8), kernel)


def _fade_from(region, width) -> np.ndarray:
    """1 on ``region``, falling linearly to 0 at ``width`` pixels from it
    (Euclidean distance), float32."""
    distance = cv2.distanceTransform((~region).astype(np.uint8), cv2.DIST_L2,
                                     5)
    return np.clip(1.0 - distance / max(width, 1e-6), 0.0, 1.0
                   ).astype(np.float32)


def _composite(image, colour_layer, alpha):
    alpha = alpha[..., None]
    return image * (1.0 - alpha) + colour_layer * alpha


def _local_background_means(image, object_mask, ring_width):
    """Mean colour of each angular sector of a band around the object."""
    band = _dilate(object_mask, ring_width).astype(bool) & ~object_mask
    ys, xs = np.nonzero(object_mask)
    cy, cx = ys.mean(), xs.mean()
    band_ys, band_xs = np.nonzero(band)
    angles = np.arctan2(band_ys - cy, band_xs - cx)
    sector = ((angles + math.pi) / (2 * math.pi) * NUM_CONTRAST_SECTORS
              ).astype(int) % NUM_CONTRAST_SECTORS
    colours = image[band_ys, band_xs]
    means = []
    for k in range(NUM_CONTRAST_SECTORS):
        in_sector = sector == k
        if in_sector.sum() >= 8:
            means.append(colours[in_sector].mean(axis=0))
    if not means:  # the object fills the image: compare with everything
        means.append(image[~object_mask].mean(axis=0) if (~object_mask).any()
                     else image.reshape(-1, 3).mean(axis=0))
    return np.stack(means)


def _pick_body_colour(rng, background_means, min_contrast, family_hue=None):
    """First candidate muted colour far enough from every sector mean (the
    number of draws is fixed, so later draws do not shift). Candidates are
    class-neutral, or in the hue range ``family_hue`` when given (see
    :func:`_body_colour_candidate`)."""
    draws = rng.uniform(size=(NUM_BODY_COLOUR_CANDIDATES, 3))
    candidates = np.stack(
        [_body_colour_candidate(d, family_hue) for d in draws] +
        [np.array([25.0, 25.0, 25.0], np.float32),
         np.array([235.0, 235.0, 235.0], np.float32)])
    distances = np.linalg.norm(
        candidates[:, None, :] - background_means[None, :, :], axis=2).min(1)
    ok = np.nonzero(distances >= min_contrast)[0]
    index = int(ok[0]) if len(ok) else int(distances.argmax())
    return candidates[index], float(distances[index])


# --------------------------------------------------------------------------
# one image
# --------------------------------------------------------------------------
def _image_rng(seed, split, index) -> np.random.Generator:
    if split not in SPLIT_IDS:
        raise ValueError(f'split must be one of {SPLITS}, got {split!r}')
    sequence = np.random.SeedSequence(int(seed),
                                      spawn_key=(SPLIT_IDS[split], int(index)))
    return np.random.default_rng(sequence)


def render_sample(seed: int, split: str, index: int, label: int,
                  knobs: Optional[SyntheticKnobs] = None) -> dict:
    """Render image ``index`` of ``split`` with class ``label``.

    Returns a dict with ``image`` (H×W×3 uint8, **RGB**, before JPEG),
    ``object_mask``, ``part_mask``, ``ignore_mask`` (H×W bool), ``box``
    (x0, y0, x1, y1 inclusive ints, tight around ``object_mask``),
    ``label`` and ``stats`` (object/part area fractions, body contrast,
    border contact, counts of distractors and decoys).

    Everything but the part's two colours is drawn independently of
    ``label``: the label changes only pixels where the part has coverage.
    """
    knobs = knobs or SyntheticKnobs()
    if not 0 <= label < MAX_CLASSES * knobs.body_families:
        raise ValueError(f'label must be in [0, '
                         f'{MAX_CLASSES * knobs.body_families}), got {label}')
    rng = _image_rng(seed, split, index)
    width = int(rng.integers(knobs.image_size_range[0],
                             knobs.image_size_range[1] + 1))
    height = int(rng.integers(knobs.image_size_range[0],
                              knobs.image_size_range[1] + 1))
    image_area = width * height

    # geometry of the object first: the clutter is placed around it
    layout = _layout_object(rng, width, height, knobs)
    object_polygons = layout.body + [layout.part]
    object_alpha = _coverage(object_polygons, width, height)
    body_alpha = _coverage(layout.body, width, height)
    part_alpha = _coverage([layout.part], width, height)
    core_alpha = _coverage([layout.core], width, height)
    object_mask = object_alpha >= 0.5
    if not object_mask.any():  # cannot happen with sane knobs; be explicit
        raise RuntimeError(f'empty object in {split} image {index}')
    keep_out = _dilate(object_alpha > 0, max(3, 0.05 * layout.scale))

    image = _background(rng, height, width)

    num_distractors = int(rng.integers(knobs.num_distractors_range[0],
                                       knobs.num_distractors_range[1] + 1))
    placed_distractors = 0
    for _ in range(num_distractors):
        low, high = knobs.distractor_area_range
        area = math.exp(rng.uniform(math.log(low), math.log(high))) * \
            image_area
        shape = _body_polygons(rng)
        size = math.sqrt(area / math.pi)  # unit blobs have area ~pi
        placed = _place_away_from(rng, shape, size, keep_out, width, height)
        if placed is not None:
            colour = _muted_colour(rng)
            texture = _texture_offset(rng, height, width, 2 * size)
            image = _composite(image, colour + texture,
                               _coverage(placed, width, height))
            placed_distractors += 1

    placed_decoys = 0
    num_decoys = int(rng.integers(1, 3)) if rng.uniform() < knobs.decoy_prob \
        else 0
    for _ in range(num_decoys):
        radius = math.sqrt(rng.uniform(0.003, 0.02) * image_area / math.pi)
        disc = [_ellipse_polygon(np.zeros(2), 1.0, rng.uniform(0.75, 1.0),
                                 rng.uniform(0, math.pi))]
        hue = PART_HUES[rng.integers(len(PART_HUES))][1]
        colour = _saturated_colour(hue, rng.uniform(size=3),
                                   knobs.hue_jitter_deg)
        placed = _place_away_from(rng, disc, radius, keep_out, width, height)
        if placed is not None:
            layer = colour + 4.0 * _smooth_noise(rng, height, width, 3.0, 3)
            image = _composite(image, layer, _coverage(placed, width, height))
            placed_decoys += 1

    # body: colour far from the local background, class-neutral texture
    ring_width = max(4, round(0.15 * layout.scale))
    background_means = _local_background_means(image, object_mask,
                                               ring_width)
    texture = _texture_offset(rng, height, width, layout.scale)
    texture_mean = texture[object_mask].mean(axis=0)
    # with several body families the body's hue range is the second half of
    # the class (the part pattern narrows it down to body_families classes)
    pattern, family = divmod(label, knobs.body_families)
    family_hue = (body_family_hue_range(family, knobs.body_families)
                  if knobs.body_families > 1 else None)
    body_colour, _ = _pick_body_colour(
        rng, background_means - texture_mean, knobs.min_body_contrast,
        family_hue)
    body = body_colour + texture

    # part: ring hue around core hue; the only label-dependent colours
    ring_hue, core_hue = CLASS_HUE_PAIRS[pattern]
    ring_colour = _saturated_colour(PART_HUES[ring_hue][1],
                                    rng.uniform(size=3), knobs.hue_jitter_deg)
    core_colour = _saturated_colour(PART_HUES[core_hue][1],
                                    rng.uniform(size=3), knobs.hue_jitter_deg)
    part_noise = 5.0 * _smooth_noise(rng, height, width, 3.0, 3)
    core_weight = np.divide(core_alpha, part_alpha,
                            out=np.zeros_like(core_alpha),
                            where=part_alpha > 0)[..., None]
    part_layer = ring_colour * (1 - core_weight) + core_colour * core_weight
    part_layer = part_layer + part_noise
    part_weight = np.divide(part_alpha, object_alpha,
                            out=np.zeros_like(part_alpha),
                            where=object_alpha > 0)
    if knobs.part_blend > 0:
        # the ring colour fades linearly into the body over part_blend part
        # radii, as plumage colours shade into each other
        part_weight = np.maximum(part_weight, _fade_from(
            part_alpha >= 0.5, knobs.part_blend * layout.part_radius))
    object_layer = _composite(body, part_layer, part_weight)
    image = _composite(image, object_layer, object_alpha)

    grain = rng.uniform(0.5, 4.0) * rng.standard_normal(
        (height, width, 3)).astype(np.float32)
    image = np.clip(np.round(image + grain), 0, 255).astype(np.uint8)

    ignore_mask = ((object_alpha > 0) | _dilate(object_mask, 1).astype(bool)
                   ) & ~object_mask
    part_mask = (part_alpha >= 0.5) & object_mask
    ys, xs = np.nonzero(object_mask)
    box = (int(xs.min()), int(ys.min()), int(xs.max()), int(ys.max()))

    # measured on the final pixels (before JPEG)
    measured_means = _local_background_means(image.astype(np.float32),
                                             object_mask, ring_width)
    body_only = object_mask & (part_weight <= 0) & (body_alpha >= 0.999)
    if not body_only.any():
        body_only = object_mask & ~part_mask
    body_mean = image[body_only].astype(np.float32).mean(axis=0)
    contrast = float(
        np.linalg.norm(measured_means - body_mean, axis=1).min())
    stats = dict(
        object_area_fraction=float(object_mask.sum()) / image_area,
        part_fraction_of_object=float(part_mask.sum()) / object_mask.sum(),
        body_contrast=contrast,
        touches_border=bool(box[0] == 0 or box[1] == 0
                            or box[2] == width - 1 or box[3] == height - 1),
        num_distractors=placed_distractors,
        num_decoys=placed_decoys)
    return dict(image=image, object_mask=object_mask, part_mask=part_mask,
                ignore_mask=ignore_mask, box=box, label=int(label),
                stats=stats)


# --------------------------------------------------------------------------
# the dataset
# --------------------------------------------------------------------------
_OUTPUTS = ('images', 'masks', 'metadata', 'README.txt')


def _check_per_class(per_class) -> Dict[str, int]:
    if per_class is None:
        return dict(DEFAULT_PER_CLASS)
    if not isinstance(per_class, dict):
        raise TypeError(f'per_class must be a dict like {DEFAULT_PER_CLASS}, '
                        f'got {per_class!r}')
    unknown = set(per_class) - set(SPLITS)
    if unknown:
        raise ValueError(f'per_class has unknown split(s) {sorted(unknown)};'
                         f' splits are {SPLITS}')
    counts = dict(DEFAULT_PER_CLASS, **per_class)
    for split, count in counts.items():
        if (not isinstance(count, (int, np.integer)) or isinstance(count, bool)
                or count <= 0):
            raise ValueError(f'per_class[{split!r}] must be a positive int, '
                             f'got {count!r}')
    return {split: int(counts[split]) for split in SPLITS}


def _prepare_out_dir(out_dir, overwrite):
    existing = [name for name in _OUTPUTS if osp.exists(osp.join(out_dir,
                                                                 name))]
    if existing and not overwrite:
        raise FileExistsError(
            f'{out_dir} already holds generated data ({", ".join(existing)}); '
            'pass overwrite=True (CLI: --overwrite) to replace it')
    for name in existing:
        path = osp.join(out_dir, name)
        if osp.isdir(path):
            shutil.rmtree(path)
        else:
            os.remove(path)
    os.makedirs(out_dir, exist_ok=True)


def _write_lines(path, lines):
    os.makedirs(osp.dirname(path), exist_ok=True)
    with open(path, 'w', encoding='utf-8', newline='\n') as f:
        f.write(''.join(line + '\n' for line in lines))


def _imwrite(path, array, params=()):
    if not cv2.imwrite(path, array, list(params)):
        raise OSError(f'cv2.imwrite could not write {path}')


def _distribution(values) -> dict:
    values = np.asarray(values, np.float64)
    quantiles = np.quantile(values, [0.0, 0.05, 0.25, 0.5, 0.75, 0.95, 1.0])
    return dict(zip(('min', 'p05', 'p25', 'median', 'p75', 'p95', 'max'),
                    (round(float(q), 4) for q in quantiles)),
                mean=round(float(values.mean()), 4))


def cli_command(seed, num_classes, per_class, knobs, jpeg_quality,
                save_part_masks) -> str:
    """The make_synthetic.py command that reproduces a generation."""
    parts = ['python tools/dataset_converters/make_synthetic.py OUT',
             f'--seed {seed}', f'--num-classes {num_classes}']
    parts += [f'--{split}-per-class {per_class[split]}' for split in SPLITS]
    defaults = asdict(SyntheticKnobs())
    for name, value in asdict(knobs).items():
        if value != defaults[name]:
            parts.append(f'--option {name}={_literal(value)}')
    if jpeg_quality != 95:
        parts.append(f'--option jpeg_quality={jpeg_quality}')
    if save_part_masks:
        parts.append('--option save_part_masks=True')
    return ' '.join(parts)


def _literal(value):
    if isinstance(value, tuple):
        return '(' + ','.join(repr(v) for v in value) + ')'
    return repr(value)


def generate_synthetic_dataset(out_dir: str,
                               seed: int = 0,
                               num_classes: int = 10,
                               per_class: Optional[Dict[str, int]] = None,
                               *,
                               jpeg_quality: int = 95,
                               save_part_masks: bool = False,
                               overwrite: bool = False,
                               **knobs) -> dict:
    """Write the synthetic WSOL dataset to ``out_dir``; return a summary.

    Args:
        out_dir: output folder (created; may exist if it holds no previous
            output, unless ``overwrite``).
        seed: base seed; same seed and knobs give byte-identical files.
        num_classes: 1..``MAX_CLASSES``.
        per_class: images per class for each split, e.g.
            ``dict(train=80, val=10, test=30)`` (missing splits get those
            defaults).
        jpeg_quality: JPEG quality of the images (1-100).
        save_part_masks: also write ``*_part.png`` (the discriminative part).
        overwrite: replace an earlier output in ``out_dir``.
        **knobs: fields of :class:`SyntheticKnobs` (``image_size_range``,
            ``object_area_range``, ``part_fraction_range``,
            ``min_visible_fraction``, ``border_prob``,
            ``num_distractors_range``,
            ``distractor_area_range``, ``decoy_prob``,
            ``min_body_contrast``, ``hue_jitter_deg``).

    Returns:
        dict with ``out_dir``, ``seed``, ``num_classes``, ``class_names``,
        ``counts`` (images per split), ``image_width``/``image_height``
        (min, max), distributions (min/p05/.../max/mean) of
        ``object_area_fraction``, ``part_fraction_of_object`` and
        ``body_contrast``, ``touches_border_fraction``,
        ``mean_distractors``, ``decoy_image_fraction`` and ``seconds``.
    """
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) \
            or seed < 0:
        raise ValueError(f'seed must be a non-negative int, got {seed!r}')
    counts_per_class = _check_per_class(per_class)
    unknown = set(knobs) - {f.name for f in fields(SyntheticKnobs)}
    if unknown:
        raise TypeError(
            f'unknown knob(s) {sorted(unknown)}; knobs are '
            f'{[f.name for f in fields(SyntheticKnobs)]} plus jpeg_quality, '
            'save_part_masks, overwrite')
    knob_values = SyntheticKnobs(**knobs)
    _check_num_classes(num_classes, knob_values.body_families)
    if (not isinstance(jpeg_quality, (int, np.integer))
            or not 1 <= jpeg_quality <= 100):
        raise ValueError(f'jpeg_quality must be an int in [1, 100], got '
                         f'{jpeg_quality!r}')
    start = time.perf_counter()
    _prepare_out_dir(out_dir, overwrite)
    names = class_names(num_classes, knob_values.body_families)
    jpeg_params = (cv2.IMWRITE_JPEG_QUALITY, int(jpeg_quality))

    all_stats, widths, heights, counts = [], [], [], {}
    for split in SPLITS:
        num_images = counts_per_class[split] * num_classes
        counts[split] = num_images
        ids, labels, sizes, boxes, masks = [], [], [], [], []
        for index in range(num_images):
            label = index % num_classes
            sample = render_sample(seed, split, index, label, knob_values)
            stem = f'{split}/{label:02d}/{split}_{index:05d}'
            image_id = f'{stem}.jpg'
            height, width = sample['object_mask'].shape
            image_path = osp.join(out_dir, 'images', image_id)
            mask_dir = osp.join(out_dir, 'masks', split, f'{label:02d}')
            os.makedirs(osp.dirname(image_path), exist_ok=True)
            os.makedirs(mask_dir, exist_ok=True)
            _imwrite(image_path, cv2.cvtColor(sample['image'],
                                              cv2.COLOR_RGB2BGR), jpeg_params)
            _imwrite(osp.join(out_dir, 'masks', f'{stem}_mask.png'),
                     sample['object_mask'].astype(np.uint8) * 255)
            _imwrite(osp.join(out_dir, 'masks', f'{stem}_ignore.png'),
                     sample['ignore_mask'].astype(np.uint8) * 255)
            if save_part_masks:
                _imwrite(osp.join(out_dir, 'masks', f'{stem}_part.png'),
                         sample['part_mask'].astype(np.uint8) * 255)
            x0, y0, x1, y1 = sample['box']
            ids.append(image_id)
            labels.append(f'{image_id},{label}')
            sizes.append(f'{image_id},{width},{height}')
            boxes.append(f'{image_id},{x0},{y0},{x1},{y1}')
            masks.append(f'{image_id},{stem}_mask.png,{stem}_ignore.png')
            widths.append(width)
            heights.append(height)
            all_stats.append(sample['stats'])
        folder = osp.join(out_dir, 'metadata', split)
        _write_lines(osp.join(folder, 'image_ids.txt'), ids)
        _write_lines(osp.join(folder, 'class_labels.txt'), labels)
        _write_lines(osp.join(folder, 'image_sizes.txt'), sizes)
        _write_lines(osp.join(folder, 'localization.txt'), boxes)
        _write_lines(osp.join(folder, 'localization_mask.txt'), masks)
    _write_lines(osp.join(out_dir, 'metadata', 'class_names.txt'), names)

    knob_lines = [f'  {name} = {_literal(value)}'
                  for name, value in asdict(knob_values).items()]
    readme = [
        'fcam_mm synthetic WSOL dataset',
        f'generator: fcam_mm.datasets.synthetic version {GENERATOR_VERSION}',
        f'seed: {seed}',
        f'num_classes: {num_classes}',
        'images per class: ' + ', '.join(f'{s}={counts_per_class[s]}'
                                         for s in SPLITS),
        f'jpeg_quality: {jpeg_quality}',
        f'save_part_masks: {save_part_masks}',
        'knobs:',
    ] + knob_lines + [
        'command (OUT = this folder):',
        '  ' + cli_command(seed, num_classes, counts_per_class, knob_values,
                           jpeg_quality, save_part_masks),
        'layout: images/ masks/ metadata/{train,val,test}/ '
        '(wsolevaluation format; localization.txt = boxes, '
        'localization_mask.txt = masks); see docs/synthetic_dataset.md',
    ]
    _write_lines(osp.join(out_dir, 'README.txt'), readme)  # last: complete

    def collect(key):
        return [s[key] for s in all_stats]

    return dict(
        out_dir=out_dir,
        seed=int(seed),
        num_classes=int(num_classes),
        class_names=names,
        counts=counts,
        image_width=(int(min(widths)), int(max(widths))),
        image_height=(int(min(heights)), int(max(heights))),
        object_area_fraction=_distribution(collect('object_area_fraction')),
        part_fraction_of_object=_distribution(
            collect('part_fraction_of_object')),
        body_contrast=_distribution(collect('body_contrast')),
        touches_border_fraction=round(
            float(np.mean(collect('touches_border'))), 4),
        mean_distractors=round(float(np.mean(collect('num_distractors'))),
                               3),
        decoy_image_fraction=round(
            float(np.mean([n > 0 for n in collect('num_decoys')])), 4),
        seconds=round(time.perf_counter() - start, 2))


# --------------------------------------------------------------------------
# preview
# --------------------------------------------------------------------------
def make_preview(data_root: str,
                 out_path: str,
                 split: str = 'val',
                 num_images: int = 24,
                 columns: int = 6,
                 tile: int = 200) -> str:
    """Write a mosaic PNG of the first ``num_images`` images of ``split``
    read back from ``data_root``: GT box in green, mask outline in white,
    ignore band in grey, class index top-left. Returns ``out_path``."""
    if num_images <= 0 or columns <= 0 or tile < 32:
        raise ValueError('num_images and columns must be positive and tile '
                         f'>= 32, got {num_images}, {columns}, {tile}')
    folder = osp.join(data_root, 'metadata', split)
    with open(osp.join(folder, 'class_labels.txt'), encoding='utf-8') as f:
        labels = dict(line.strip().split(',') for line in f if line.strip())
    with open(osp.join(folder, 'localization.txt'), encoding='utf-8') as f:
        boxes = {}
        for line in f:
            if line.strip():
                path, *coords = line.strip().split(',')
                boxes[path] = [int(c) for c in coords]
    with open(osp.join(folder, 'localization_mask.txt'),
              encoding='utf-8') as f:
        masks = {}
        for line in f:
            if line.strip():
                path, mask, ignore = line.strip().split(',')
                masks[path] = (mask, ignore)
    image_ids = list(labels)[:num_images]
    rows = int(math.ceil(len(image_ids) / columns))
    mosaic = np.full((rows * tile, columns * tile, 3), 40, np.uint8)
    for k, image_id in enumerate(image_ids):
        image = cv2.imread(osp.join(data_root, 'images', image_id))
        mask = cv2.imread(osp.join(data_root, 'masks', masks[image_id][0]),
                          cv2.IMREAD_GRAYSCALE)
        ignore = cv2.imread(osp.join(data_root, 'masks',
                                     masks[image_id][1]),
                            cv2.IMREAD_GRAYSCALE)
        height, width = image.shape[:2]
        factor = (tile - 4) / max(height, width)
        size = (max(1, round(width * factor)), max(1, round(height * factor)))
        shown = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
        ignore = cv2.resize(ignore, size, interpolation=cv2.INTER_NEAREST)
        shown[ignore > 0] = (shown[ignore > 0] // 2 + 64)
        mask = cv2.resize(mask, size, interpolation=cv2.INTER_NEAREST)
        contours, _ = cv2.findContours((mask > 0).astype(np.uint8),
                                       cv2.RETR_TREE, cv2.CHAIN_APPROX_NONE)
        cv2.drawContours(shown, contours, -1, (255, 255, 255), 1)
        x0, y0, x1, y1 = boxes[image_id]
        cv2.rectangle(shown, (int(x0 * factor), int(y0 * factor)),
                      (int((x1 + 1) * factor) - 1, int((y1 + 1) * factor) - 1),
                      (0, 255, 0), 1)
        cv2.putText(shown, labels[image_id], (3, 14),
                    cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 0, 0), 3,
                    cv2.LINE_AA)
        cv2.putText(shown, labels[image_id], (3, 14),
                    cv2.FONT_HERSHEY_SIMPLEX, 0.45, (255, 255, 255), 1,
                    cv2.LINE_AA)
        row, col = divmod(k, columns)
        top, left = row * tile + 2, col * tile + 2
        mosaic[top:top + size[1], left:left + size[0]] = shown
    out_dir = osp.dirname(osp.abspath(out_path))
    os.makedirs(out_dir, exist_ok=True)
    _imwrite(out_path, mosaic)
    return out_path
