"""The ``parts_hard`` preset: one object = a class-neutral body + a small
discriminative part, in a cluttered scene.

The first design of the embedded benchmark (docs/synthetic_dataset.md). It
is hard in the ways real weakly-supervised localization is hard, so that a
CAM or F-CAM result on it means something, yet small enough to be
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
  the object, plus the object's 4-neighbours); it never contains an object
  pixel. PxAP drops these pixels, whose label is ambiguous.
* part mask (``save_part_masks``): the part's pixels inside the mask.

Knobs (fields of :class:`SyntheticKnobs`)
-----------------------------------------
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

``num_classes`` is 1..``MAX_CLASSES * body_families``; class ``k`` is
``class_names(...)[k]``. See ``docs/synthetic_dataset.md`` for the
reasoning and what the dataset is not.
"""
import math
from dataclasses import dataclass
from typing import List, Optional, Tuple

import numpy as np

from .base import KnobsBase, Preset, distribution, image_rng
from .colours import (composite, local_background_means, muted_colour,
                      pick_body_colour, saturated_colour)
from .shapes import (body_polygons, coverage, dilate, ellipse_polygon,
                     fade_from, layout_object, place_away_from)
from .textures import background, smooth_noise, texture_offset

__all__ = [
    'GENERATOR_VERSION', 'PART_HUES', 'CLASS_HUE_PAIRS', 'MAX_CLASSES',
    'MAX_BODY_FAMILIES', 'SyntheticKnobs', 'class_names',
    'body_family_hue_range', 'render_sample', 'summarize', 'PRESET'
]

#: Bump whenever the same arguments would produce different files.
GENERATOR_VERSION = '1.0'

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


@dataclass(frozen=True)
class SyntheticKnobs(KnobsBase):
    """The knobs of the parts_hard preset (see the module docstring)."""
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
        self._tuples_from_lists()
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
        self._check_int('body_families', 1, MAX_BODY_FAMILIES)


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


def body_family_hue_range(family: int, body_families: int
                          ) -> Tuple[float, float]:
    """Hue interval (degrees, centre ± half-width) of body colour family
    ``family`` out of ``body_families``: the hue circle cut into equal
    sectors from 30° on, each family taking the middle 75 % of its sector
    (2 families: 345°–75° "warm" and 165°–255° "cool")."""
    sector = 360.0 / body_families
    return (30.0 + family * sector) % 360.0, 0.375 * sector


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
    rng = image_rng(seed, split, index)
    width = int(rng.integers(knobs.image_size_range[0],
                             knobs.image_size_range[1] + 1))
    height = int(rng.integers(knobs.image_size_range[0],
                              knobs.image_size_range[1] + 1))
    image_area = width * height

    # geometry of the object first: the clutter is placed around it
    layout = layout_object(
        rng, width, height,
        object_area_range=knobs.object_area_range,
        part_fraction_range=knobs.part_fraction_range,
        border_prob=knobs.border_prob,
        min_visible_fraction=knobs.min_visible_fraction)
    object_polygons = layout.body + [layout.part]
    object_alpha = coverage(object_polygons, width, height)
    body_alpha = coverage(layout.body, width, height)
    part_alpha = coverage([layout.part], width, height)
    core_alpha = coverage([layout.core], width, height)
    object_mask = object_alpha >= 0.5
    if not object_mask.any():  # cannot happen with sane knobs; be explicit
        raise RuntimeError(f'empty object in {split} image {index}')
    keep_out = dilate(object_alpha > 0, max(3, 0.05 * layout.scale))

    image = background(rng, height, width)

    num_distractors = int(rng.integers(knobs.num_distractors_range[0],
                                       knobs.num_distractors_range[1] + 1))
    placed_distractors = 0
    for _ in range(num_distractors):
        low, high = knobs.distractor_area_range
        area = math.exp(rng.uniform(math.log(low), math.log(high))) * \
            image_area
        shape = body_polygons(rng)
        size = math.sqrt(area / math.pi)  # unit blobs have area ~pi
        placed = place_away_from(rng, shape, size, keep_out, width, height)
        if placed is not None:
            colour = muted_colour(rng)
            texture = texture_offset(rng, height, width, 2 * size)
            image = composite(image, colour + texture,
                              coverage(placed, width, height))
            placed_distractors += 1

    placed_decoys = 0
    num_decoys = int(rng.integers(1, 3)) if rng.uniform() < knobs.decoy_prob \
        else 0
    for _ in range(num_decoys):
        radius = math.sqrt(rng.uniform(0.003, 0.02) * image_area / math.pi)
        disc = [ellipse_polygon(np.zeros(2), 1.0, rng.uniform(0.75, 1.0),
                                rng.uniform(0, math.pi))]
        hue = PART_HUES[rng.integers(len(PART_HUES))][1]
        colour = saturated_colour(hue, rng.uniform(size=3),
                                  knobs.hue_jitter_deg)
        placed = place_away_from(rng, disc, radius, keep_out, width, height)
        if placed is not None:
            layer = colour + 4.0 * smooth_noise(rng, height, width, 3.0, 3)
            image = composite(image, layer, coverage(placed, width, height))
            placed_decoys += 1

    # body: colour far from the local background, class-neutral texture
    ring_width = max(4, round(0.15 * layout.scale))
    background_means = local_background_means(image, object_mask,
                                              ring_width)
    texture = texture_offset(rng, height, width, layout.scale)
    texture_mean = texture[object_mask].mean(axis=0)
    # with several body families the body's hue range is the second half of
    # the class (the part pattern narrows it down to body_families classes)
    pattern, family = divmod(label, knobs.body_families)
    family_hue = (body_family_hue_range(family, knobs.body_families)
                  if knobs.body_families > 1 else None)
    body_colour, _ = pick_body_colour(
        rng, background_means - texture_mean, knobs.min_body_contrast,
        family_hue)
    body = body_colour + texture

    # part: ring hue around core hue; the only label-dependent colours
    ring_hue, core_hue = CLASS_HUE_PAIRS[pattern]
    ring_colour = saturated_colour(PART_HUES[ring_hue][1],
                                   rng.uniform(size=3), knobs.hue_jitter_deg)
    core_colour = saturated_colour(PART_HUES[core_hue][1],
                                   rng.uniform(size=3), knobs.hue_jitter_deg)
    part_noise = 5.0 * smooth_noise(rng, height, width, 3.0, 3)
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
        part_weight = np.maximum(part_weight, fade_from(
            part_alpha >= 0.5, knobs.part_blend * layout.part_radius))
    object_layer = composite(body, part_layer, part_weight)
    image = composite(image, object_layer, object_alpha)

    grain = rng.uniform(0.5, 4.0) * rng.standard_normal(
        (height, width, 3)).astype(np.float32)
    image = np.clip(np.round(image + grain), 0, 255).astype(np.uint8)

    ignore_mask = ((object_alpha > 0) | dilate(object_mask, 1).astype(bool)
                   ) & ~object_mask
    part_mask = (part_alpha >= 0.5) & object_mask
    ys, xs = np.nonzero(object_mask)
    box = (int(xs.min()), int(ys.min()), int(xs.max()), int(ys.max()))

    # measured on the final pixels (before JPEG)
    measured_means = local_background_means(image.astype(np.float32),
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


def summarize(all_stats: List[dict]) -> dict:
    """The headline numbers of a parts_hard dataset (the summary keys this
    preset has always had): distributions of ``object_area_fraction``,
    ``part_fraction_of_object`` and ``body_contrast``, the share of objects
    touching the border, distractors per image, share of images with
    decoys."""
    def collect(key):
        return [s[key] for s in all_stats]

    return dict(
        object_area_fraction=distribution(collect('object_area_fraction')),
        part_fraction_of_object=distribution(
            collect('part_fraction_of_object')),
        body_contrast=distribution(collect('body_contrast')),
        touches_border_fraction=round(
            float(np.mean(collect('touches_border'))), 4),
        mean_distractors=round(float(np.mean(collect('num_distractors'))),
                               3),
        decoy_image_fraction=round(
            float(np.mean([n > 0 for n in collect('num_decoys')])), 4))


PRESET = Preset(
    name='parts_hard',
    version=GENERATOR_VERSION,
    knobs=SyntheticKnobs,
    render_sample=render_sample,
    class_names=lambda num_classes, knobs: class_names(
        num_classes, knobs.body_families),
    max_classes=lambda knobs: MAX_CLASSES * knobs.body_families,
    description='a class-neutral blob body with a small two-hue part that '
    'alone tells the class, in clutter (the first embedded benchmark)',
    summarize=summarize)
