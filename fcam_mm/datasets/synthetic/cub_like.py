"""The ``cub_like`` preset: one bird-like object per photograph-like scene,
modelled on CUB-200-2011 (Wah et al. 2011) and the WSOL protocol's use of
it (Choe et al. 2020).

Why another preset. ``parts_hard`` put all the class evidence in a
saturated part on a class-neutral body drawn from the background's colour
distribution, among object-like distractors. Under the protocol's reference
baselines its ladder was upside down (an untrained centre-Gaussian map
beat the trained CAM), because it lacked what real photographs have and
WSOL methods rely on. This preset is designed from those properties, never
from F-CAM's results:

* **Geometry as in CUB.** One object; its bounding-box area is log-normal
  with CUB's median (≈0.3 of the image; CUB test: p05 0.11, median 0.32,
  p95 0.69), its box centre the image centre plus a Gaussian offset with
  CUB's spread (σ ≈ 0.09 W, 0.07 H), a few objects cross the border.
  Images are landscape more often than not (W/H 0.75-1.6).
* **Figure and ground.** The bird is one coherent region: body, head and
  tail share a plumage colour with gradual shading (a lighter belly, a
  darker wing with a soft edge, a head that shades into the body), so the
  boundaries inside it are weaker than its outline, whose colour differs
  from the surrounding background by at least ``min_contrast``
  (``camouflage_prob`` of the images instead take the plumage shade
  closest to the surroundings: weak outlines, as a brown bird on bark).
* **Class evidence as in CUB.** A class is a plumage colour *family*
  (brown, grey, yellow, blue, red, ... — shared by several classes) times
  a head *marking* (eye stripe, crown, eye ring, bib, cheek patch,
  collar — the field marks that separate species of one colour). The head
  is the discriminative part; the body carries part of the evidence (its
  family). Changing the label changes only object pixels, never the
  scene, the pose or the random draws.
* **Natural backgrounds** (:mod:`.scenery`): foliage, sky, ground or water,
  blurred by a depth of field, lit by a smooth gradient, with thin
  branching branches (a bird often perches on one) and leaves as clutter.
  Object-like distractors (a plumage-coloured blob without a head) are
  rare (``distractor_prob``).

Annotations: the mask is the bird (body ∪ head ∪ beak ∪ tail, anti-aliased
coverage ≥ 0.5), the box its tight box, the ignore band as in
``parts_hard``; the part mask is the head and beak.

Statistics per image (summarised by the writer): box and mask area
fractions, the part's share, the outline's contrast to the local
background, the mean gradient magnitude on the outline and inside the
object (figure/ground: the outline is the stronger edge when their ratio is
above 1), and ``background_like_object`` — the share of background pixels
whose colour lies within 30 (2 σ_rgb of F-CAM's CRF) of the object's mean
colour: with the CRF's σ_xy = 100 the kernel spans the whole image, so this
is what decides whether colour alone can tell the object from the scene.
"""
import math
from dataclasses import dataclass
from typing import List, Optional, Tuple

import cv2
import numpy as np

from .base import KnobsBase, Preset, distribution, image_rng
from .birds import MARKING_DRAWS, MARKINGS, bird_shape, marking_polygons, \
    place_bird
from .colours import (composite, hsv_to_rgb255, local_background_means,
                      paint)
from .scenery import (BACKGROUND_KINDS, branch_polygons, natural_background,
                      photographed)
from .shapes import (body_polygons, coverage, dilate, ellipse_polygon,
                     ignore_band_and_box, place_away_from)
from .textures import smooth_noise

__all__ = [
    'GENERATOR_VERSION', 'PLUMAGE_FAMILIES', 'PLUMAGE_GROUPS',
    'PLUMAGE_PATTERNS', 'FIELD_MARKS',
    'CubLikeKnobs', 'class_names',
    'render_sample', 'summarize', 'PRESET'
]

#: Bump whenever the same arguments would produce different files.
GENERATOR_VERSION = '1.0'

#: Plumage colour families, muted as most birds are: hue range (degrees;
#: None = any hue), saturation range, value range.
PLUMAGE_FAMILIES = dict(
    brown=((18.0, 40.0), (0.35, 0.65), (0.28, 0.65)),
    buff=((28.0, 45.0), (0.30, 0.50), (0.55, 0.85)),
    olive=((50.0, 75.0), (0.30, 0.55), (0.30, 0.60)),
    slate=((200.0, 230.0), (0.20, 0.40), (0.30, 0.60)),
    bluegrey=((190.0, 215.0), (0.30, 0.50), (0.45, 0.80)),
    rufous=((4.0, 16.0), (0.50, 0.75), (0.40, 0.75)),
    chestnut=((0.0, 12.0), (0.45, 0.70), (0.22, 0.45)),
    grey=(None, (0.0, 0.08), (0.30, 0.85)),
)
#: What the body tells of the class, one of two kinds (knob
#: ``plumage_evidence``):
#:
#: * ``'colour'``: plumage *groups* of colour families; a class has one
#:   group, the family of the group a bird wears is drawn per image; the
#:   groups do not overlap in colour.
#: * ``'pattern'``: plumage *patterns*, which only birds wear (backgrounds
#:   share the birds' colours, not their feather patterns); the colour is
#:   drawn per image from every family.
#:
#: Either way each plumage class is shared by the classes of every
#: field-mark colour.
PLUMAGE_GROUPS = (('earthy', ('brown', 'buff', 'olive')),
                  ('cool', ('slate', 'bluegrey')),
                  ('rufous', ('rufous', 'chestnut')),
                  ('grey', ('grey', )))
PLUMAGE_PATTERNS = ('plain', 'streaked', 'barred', 'spotted')
PLUMAGE_EVIDENCE = ('colour', 'pattern')
#: Field-mark colours: the class evidence of the head (saturated or
#: black/white on the muted plumage). Name, hue range (None = any),
#: saturation range, value range.
FIELD_MARKS = (
    ('black', None, (0.0, 0.12), (0.05, 0.16)),
    ('white', None, (0.0, 0.06), (0.90, 0.98)),
    ('red', (-8.0, 8.0), (0.80, 1.0), (0.75, 0.95)),
    ('yellow', (50.0, 60.0), (0.80, 1.0), (0.85, 1.0)),
    ('turquoise', (175.0, 192.0), (0.70, 0.95), (0.70, 0.90)),
    ('orange', (25.0, 35.0), (0.85, 1.0), (0.85, 1.0)),
)
#: candidate plumage shades tried against the local background
NUM_SHADE_CANDIDATES = 32
#: colour distance that counts as "the object's colour" for the
#: background-overlap statistic: 2 σ_rgb of F-CAM's CRF kernel
COLOUR_OVERLAP_DISTANCE = 30.0


@dataclass(frozen=True)
class CubLikeKnobs(KnobsBase):
    """Knobs of the ``cub_like`` preset (see the module docstring)."""
    image_width_range: Tuple[int, int] = (192, 256)
    aspect_range: Tuple[float, float] = (0.8, 1.6)
    box_area_median: float = 0.32
    box_area_log_sigma: float = 0.5
    box_area_range: Tuple[float, float] = (0.05, 0.85)
    centre_sigma_x: float = 0.09
    centre_sigma_y: float = 0.07
    border_prob: float = 0.03
    min_visible_fraction: float = 0.75
    upright_prob: float = 0.5
    plumage_evidence: str = 'colour'
    num_plumages: int = 4
    head_scale: float = 1.3
    min_contrast: float = 45.0
    camouflage_prob: float = 0.15
    perch_prob: float = 0.5
    num_branches_range: Tuple[int, int] = (0, 2)
    distractor_prob: float = 0.08

    def __post_init__(self):
        self._tuples_from_lists()
        self._check_range('image_width_range', int, 64, 2048)
        self._check_range('aspect_range', float, 0.25, 4.0)
        self._check_scalar('box_area_median', 0.01, 0.95)
        self._check_scalar('box_area_log_sigma', 0.0, 2.0)
        self._check_range('box_area_range', float, 0.005, 0.95)
        self._check_scalar('centre_sigma_x', 0.0, 0.5)
        self._check_scalar('centre_sigma_y', 0.0, 0.5)
        self._check_scalar('border_prob', 0.0, 1.0)
        self._check_scalar('min_visible_fraction', 0.05, 1.0)
        self._check_scalar('upright_prob', 0.0, 1.0)
        if self.plumage_evidence not in PLUMAGE_EVIDENCE:
            raise ValueError(f'plumage_evidence must be one of '
                             f'{PLUMAGE_EVIDENCE}, got '
                             f'{self.plumage_evidence!r}')
        self._check_int('num_plumages', 1, len(self.plumage_names()))
        self._check_scalar('head_scale', 0.5, 1.6)
        self._check_scalar('min_contrast', 0.0, 200.0)
        self._check_scalar('camouflage_prob', 0.0, 1.0)
        self._check_scalar('perch_prob', 0.0, 1.0)
        self._check_range('num_branches_range', int, 0, 10)
        self._check_scalar('distractor_prob', 0.0, 1.0)

    def plumage_names(self) -> List[str]:
        """Names of the plumage classes these knobs can use."""
        if self.plumage_evidence == 'colour':
            return [name for name, _ in PLUMAGE_GROUPS]
        return list(PLUMAGE_PATTERNS)


def max_classes(knobs: CubLikeKnobs) -> int:
    """Plumage classes × field-mark colours."""
    return knobs.num_plumages * len(FIELD_MARKS)


def class_plumage_mark(label: int, num_plumages: int) -> Tuple[int, int]:
    """Class ``label`` = plumage class ``label % P`` with field-mark colour
    ``label // P``: every plumage is shared by the classes of every mark
    colour, every mark colour by the classes of every plumage."""
    mark, plumage = divmod(int(label), num_plumages)
    return plumage, mark


def class_names(num_classes: int, knobs: Optional[CubLikeKnobs] = None
                ) -> List[str]:
    """``'{plumage}_{mark}'`` per label, e.g. ``'rufous_red'`` (a rufous
    bird with a red field mark on its head)."""
    knobs = knobs or CubLikeKnobs()
    most = max_classes(knobs)
    if (not isinstance(num_classes, (int, np.integer))
            or isinstance(num_classes, bool) or not 1 <= num_classes <= most):
        raise ValueError(
            f'num_classes must be an int in [1, {most}] for cub_like with '
            f'num_plumages={knobs.num_plumages} ({len(FIELD_MARKS)} '
            f'field-mark colours per plumage); got {num_classes!r}')
    plumages = knobs.plumage_names()
    names = []
    for label in range(num_classes):
        plumage, mark = class_plumage_mark(label, knobs.num_plumages)
        names.append(f'{plumages[plumage]}_{FIELD_MARKS[mark][0]}')
    return names


# --------------------------------------------------------------------------
# colours
# --------------------------------------------------------------------------
def hsv_range_colour(hue_range, sat_range, val_range, draws) -> np.ndarray:
    """A colour of an HSV box (hue in degrees, None = any hue) from three
    pre-drawn uniforms (so that the label never changes the number of
    draws)."""
    u_hue, u_sat, u_val = draws
    hue = (u_hue if hue_range is None else
           (hue_range[0] + u_hue * (hue_range[1] - hue_range[0])) / 360.0)
    return hsv_to_rgb255(hue, sat_range[0] + u_sat * (sat_range[1] -
                                                      sat_range[0]),
                         val_range[0] + u_val * (val_range[1] -
                                                 val_range[0]))


def _pick_shade(family, draws, background_means, min_contrast, camouflaged):
    """The first candidate shade of plumage ``family`` at least
    ``min_contrast`` from every sector of the surroundings (the farthest
    if none is), or, for a camouflaged bird, the candidate closest to them
    on average."""
    candidates = np.stack([hsv_range_colour(*PLUMAGE_FAMILIES[family], d)
                           for d in draws])
    distances = np.linalg.norm(candidates[:, None] - background_means[None],
                               axis=2)
    if camouflaged:
        return candidates[int(distances.mean(1).argmin())]
    nearest = distances.min(1)
    ok = np.nonzero(nearest >= min_contrast)[0]
    return candidates[int(ok[0]) if len(ok) else int(nearest.argmax())]


def _shade(colour, factor):
    """``colour`` darkened (< 1) or lightened (> 1) towards white."""
    if factor <= 1:
        return colour * factor
    return colour + (255.0 - colour) * (factor - 1.0)


# --------------------------------------------------------------------------
# one image
# --------------------------------------------------------------------------
def _frame_coordinates(bird, origin, height, width):
    """Bird-frame coordinates (x towards the head, y towards the belly, in
    body half-lengths) of the pixels of a ``height × width`` window whose
    top-left pixel is ``origin`` (x, y) in the image."""
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float64)
    rel = np.stack([xs + origin[0] - bird.centre[0],
                    ys + origin[1] - bird.centre[1]], -1) / bird.scale
    c, s = math.cos(bird.angle), math.sin(bird.angle)
    # inverse of rotate(p, angle) = p @ [[c, s], [-s, c]]
    frame = rel @ np.array([[c, -s], [s, c]])
    frame[..., 0] *= bird.facing
    return frame.astype(np.float32)


def _plumage_pattern(pattern: int, fx, fy, noise, draws):
    """Where plumage pattern ``pattern`` darkens the feathers, in [0, 1]
    over the bird frame (coordinates in body half-lengths): None for
    plain; streaks run along the body axis, bars across it, spots are
    blobs. Periods are ~0.2 half-lengths, so a pattern keeps 8-12 repeats
    over a body whatever the bird's size; ``noise`` makes them wavy."""
    name = PLUMAGE_PATTERNS[pattern]
    period = 0.16 + 0.08 * draws[0]
    if name == 'plain':
        return None
    if name == 'streaked':
        wave = np.sin(2 * math.pi * fy / period + 0.6 * noise +
                      2 * math.pi * draws[1])
        return np.clip((wave - 0.3) * 2.5, 0.0, 1.0)
    if name == 'barred':
        wave = np.sin(2 * math.pi * fx / period + 0.6 * noise +
                      2 * math.pi * draws[1])
        return np.clip((wave - 0.3) * 2.5, 0.0, 1.0)
    # spotted: a lattice of round spots, jittered by the noise
    u = fx / period + 0.3 * noise + draws[1]
    v = fy / period + 0.3 * noise + draws[2]
    distance = np.hypot(u - np.round(u), v - np.round(v))
    return np.clip((0.3 - distance) * 8.0, 0.0, 1.0)


def _soft(mask_coverage, sigma):
    return cv2.GaussianBlur(mask_coverage, (0, 0), max(sigma, 0.3))


def _gradient_magnitude(image):
    grey = cv2.GaussianBlur(image.astype(np.float32).mean(axis=2), (0, 0),
                            1.0)
    gx = cv2.Sobel(grey, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(grey, cv2.CV_32F, 0, 1, ksize=3)
    return np.sqrt(gx * gx + gy * gy)


def render_sample(seed: int, split: str, index: int, label: int,
                  knobs: Optional[CubLikeKnobs] = None) -> dict:
    """Render image ``index`` of ``split`` with class ``label``.

    Returns the preset contract: ``image`` (H×W×3 uint8 RGB), ``object_mask``,
    ``part_mask`` (head and beak), ``ignore_mask``, ``box`` (inclusive,
    tight around the mask), ``label`` and ``stats``. Only object pixels
    depend on ``label``.
    """
    knobs = knobs or CubLikeKnobs()
    if not 0 <= label < max_classes(knobs):
        raise ValueError(f'label must be in [0, {max_classes(knobs)}) for '
                         f'num_plumages={knobs.num_plumages}, got {label}')
    plumage, mark = class_plumage_mark(label, knobs.num_plumages)
    by_colour = knobs.plumage_evidence == 'colour'
    rng = image_rng(seed, split, index)
    width = int(rng.integers(knobs.image_width_range[0],
                             knobs.image_width_range[1] + 1))
    height = int(round(width / rng.uniform(*knobs.aspect_range)))
    image_area = width * height

    # --- the bird's geometry (label-independent)
    shape = bird_shape(rng, head_scale=knobs.head_scale)
    low, high = knobs.box_area_range
    box_area = float(np.clip(knobs.box_area_median * math.exp(
        knobs.box_area_log_sigma * rng.standard_normal()), low, high))
    bird = place_bird(rng, shape, width, height, box_area=box_area,
                      centre_sigma=(knobs.centre_sigma_x,
                                    knobs.centre_sigma_y),
                      upright_prob=knobs.upright_prob,
                      border_prob=knobs.border_prob,
                      min_visible_fraction=knobs.min_visible_fraction)
    object_alpha = coverage(bird.silhouette(), width, height)
    object_mask = object_alpha >= 0.5
    if not object_mask.any():
        raise RuntimeError(f'empty object in {split} image {index}')
    part_alpha = coverage([bird.to_image(shape.head),
                           bird.to_image(shape.beak)], width, height)
    keep_out = dilate(object_alpha > 0, max(3, 0.04 * bird.scale))

    # --- the scene (label-independent)
    image, kind = natural_background(rng, height, width)
    bark = hsv_to_rgb255(rng.uniform(18, 35) / 360.0, rng.uniform(0.1, 0.45),
                         rng.uniform(0.15, 0.45))
    num_branches = int(rng.integers(knobs.num_branches_range[0],
                                    knobs.num_branches_range[1] + 1))
    for _ in range(num_branches):
        limb = branch_polygons(rng, width, height,
                               rng.uniform(0.01, 0.035) * max(width, height))
        shade = _shade(bark, rng.uniform(0.8, 1.25))
        texture = 6.0 * smooth_noise(rng, height, width, 2.0, 1)
        image = paint(image, shade + texture,
                          coverage(limb, width, height))
    perched = rng.uniform() < knobs.perch_prob
    perch_draws = rng.uniform(size=4)
    if perched:  # a branch under the belly, the bird drawn over it
        foot = bird.to_image(np.array([[0.0, 0.8 * shape.body_minor]]))[0]
        direction = math.atan2(*bird.vector([1.0, 0.0])[::-1]) + \
            (perch_draws[0] - 0.5)
        start = foot - 0.6 * max(width, height) * np.array(
            [math.cos(direction), math.sin(direction)])
        limb = branch_polygons(
            rng, width, height, (0.03 + 0.05 * perch_draws[1]) * bird.scale *
            2, start=start, direction=direction)
        image = paint(image, _shade(bark, 0.8 + 0.4 * perch_draws[2]) +
                          6.0 * smooth_noise(rng, height, width, 2.0, 1),
                          coverage(limb, width, height))
    has_distractor = rng.uniform() < knobs.distractor_prob
    distractor_draws = rng.uniform(size=4)
    placed_distractor = False
    if has_distractor:  # rare: a plumage-coloured blob without a head
        blob = body_polygons(rng)
        size = math.sqrt((0.02 + 0.08 * distractor_draws[0]) * image_area /
                         math.pi)
        placed = place_away_from(rng, blob, size, keep_out, width, height)
        if placed is not None:
            family = list(PLUMAGE_FAMILIES)[
                int(distractor_draws[1] * len(PLUMAGE_FAMILIES)) %
                len(PLUMAGE_FAMILIES)]
            colour = hsv_range_colour(*PLUMAGE_FAMILIES[family],
                                      rng.uniform(size=3))
            image = paint(
                image, colour + 8.0 * smooth_noise(rng, height, width, 4.0,
                                                   1),
                coverage(placed, width, height))
            placed_distractor = True

    # --- the bird's colours: every draw is made whatever the label
    camouflaged = rng.uniform() < knobs.camouflage_prob
    shade_draws = rng.uniform(size=(NUM_SHADE_CANDIDATES, 3))
    head_factor, belly_light, wing_dark, tail_dark = rng.uniform(size=4)
    family_draw, marking_draw = rng.uniform(size=2)
    marking_draws = rng.uniform(size=MARKING_DRAWS)
    mark_colour_draws = rng.uniform(size=3)
    beak_draws = rng.uniform(size=3)
    pattern_draws = rng.uniform(size=4)
    ring_width = max(4, round(0.15 * math.sqrt(object_mask.sum())))
    surroundings = local_background_means(image, object_mask, ring_width)
    families = (PLUMAGE_GROUPS[plumage][1] if by_colour else
                list(PLUMAGE_FAMILIES))
    family = families[int(family_draw * len(families)) % len(families)]
    base = _pick_shade(family, shade_draws, surroundings,
                       knobs.min_contrast, camouflaged)

    # the bird is rendered in the window of its coverage only
    x, y, w, h = cv2.boundingRect((object_alpha > 0).astype(np.uint8))
    window = (slice(y, y + h), slice(x, x + w))
    origin = np.array([x, y], np.float64)

    def cover(polygons):  # coverage inside the window
        return coverage([bird.to_image(p) - origin for p in polygons], w, h)

    plumage_noise = smooth_noise(rng, h, w, max(1.5, 0.05 * bird.scale), 1)
    fy = _frame_coordinates(bird, origin, h, w)[..., 1]
    # belly lighter than the back: a ramp across the body's minor axis
    ramp = np.clip(fy / (2 * shape.body_minor) + 0.5, 0.0, 1.0)[..., None]
    plumage = base[None, None] * (1.0 + (0.08 + 0.22 * belly_light) *
                                  (ramp - 0.5))
    # the head shades into the body over the neck
    head_colour = _shade(base, 0.85 + 0.3 * head_factor)
    plumage = composite(plumage, head_colour,
                        _soft(cover([shape.head]), 0.08 * bird.scale))
    # wing and tail: darker, with soft edges (weaker than the outline)
    plumage = composite(plumage, _shade(base, 0.68 + 0.2 * wing_dark),
                        0.9 * _soft(cover([shape.wing]), 0.04 * bird.scale))
    plumage = composite(plumage, _shade(base, 0.7 + 0.2 * tail_dark),
                        _soft(cover([shape.tail]), 0.03 * bird.scale))
    # a pattern class's plumage pattern on the body, wing and tail (the
    # head stays plain, as the field mark's background), then fine texture
    fx = _frame_coordinates(bird, origin, h, w)[..., 0]
    pattern_layer = None if by_colour else _plumage_pattern(
        plumage, fx, fy, plumage_noise[..., 0], pattern_draws)
    if pattern_layer is not None:
        outside_head = 1.0 - np.clip(_soft(cover([shape.head]),
                                           0.05 * bird.scale), 0.0, 1.0)
        darken = (0.55 + 0.15 * pattern_draws[3]) * pattern_layer * \
            outside_head
        plumage = plumage * (1.0 - darken[..., None]) + \
            _shade(base, 0.3)[None, None] * darken[..., None]
    plumage = plumage + 4.0 * plumage_noise
    # the class's field mark on the head: its colour is the class, its
    # shape is drawn per image (clipped to the object by the final
    # composite)
    mark_colour = hsv_range_colour(*FIELD_MARKS[mark][1:], mark_colour_draws)
    marking = int(marking_draw * len(MARKINGS)) % len(MARKINGS)
    mark_alpha = cover(marking_polygons(shape, marking, marking_draws))
    plumage = composite(plumage, mark_colour, mark_alpha)
    mark_pixels = int(((mark_alpha >= 0.5) & object_mask[window]).sum())
    # class-neutral details: beak and eye
    beak_colour = (hsv_to_rgb255(0.11, 0.5 * beak_draws[1],
                                 0.25 + 0.6 * beak_draws[2])
                   if beak_draws[0] < 0.5 else
                   np.full(3, 30.0 + 50.0 * beak_draws[2], np.float32))
    plumage = composite(plumage, beak_colour, cover([shape.beak]))
    eye = ellipse_polygon(shape.eye_centre, shape.eye_radius, 1.0, 0.0,
                          num_points=16)
    plumage = composite(plumage, np.full(3, 15.0, np.float32), cover([eye]))
    image[window] = composite(image[window], plumage, object_alpha[window])

    image = photographed(image, rng)

    # --- annotations
    ignore_mask, box = ignore_band_and_box(object_mask, object_alpha)
    part_mask = (part_alpha >= 0.5) & object_mask

    # --- statistics, measured on the final pixels (before JPEG)
    pixels = image.astype(np.float32)
    object_mean = pixels[object_mask].mean(axis=0)
    measured = local_background_means(pixels, object_mask, ring_width)
    contrast = float(np.linalg.norm(measured - object_mean, axis=1).min())
    gradient = _gradient_magnitude(image)
    outline = dilate(object_mask, 1).astype(bool) & \
        ~cv2.erode(object_mask.astype(np.uint8), np.ones((3, 3))).astype(bool)
    interior = cv2.erode(object_mask.astype(np.uint8),
                         np.ones((7, 7))).astype(bool)
    outline_gradient = float(gradient[outline].mean())
    interior_gradient = (float(gradient[interior].mean()) if interior.any()
                         else float('nan'))
    scene = ~dilate(object_mask, 2).astype(bool)
    near = np.linalg.norm(pixels[scene] - object_mean, axis=1) < \
        COLOUR_OVERLAP_DISTANCE
    stats = dict(
        box_area_fraction=float((box[2] - box[0] + 1) * (box[3] - box[1] + 1))
        / image_area,
        object_area_fraction=float(object_mask.sum()) / image_area,
        part_fraction_of_object=float(part_mask.sum()) / object_mask.sum(),
        mark_fraction_of_object=mark_pixels / float(object_mask.sum()),
        outline_contrast=contrast,
        outline_gradient=outline_gradient,
        interior_gradient=interior_gradient,
        edge_ratio=outline_gradient / max(interior_gradient, 1e-6),
        background_like_object=float(near.mean()) if near.size else 0.0,
        camouflaged=bool(camouflaged),
        touches_border=bool(box[0] == 0 or box[1] == 0
                            or box[2] == width - 1 or box[3] == height - 1),
        perched=bool(perched),
        num_branches=num_branches,
        distractor=bool(placed_distractor),
        **{f'background_{name}': kind == name
           for name, _ in BACKGROUND_KINDS})
    return dict(image=image, object_mask=object_mask, part_mask=part_mask,
                ignore_mask=ignore_mask, box=box, label=int(label),
                stats=stats)


def summarize(all_stats: List[dict]) -> dict:
    """Headline numbers of a cub_like dataset: distributions of the box
    and mask area fractions, the outline contrast, the outline/interior
    gradient ratio and the background's colour overlap with the object;
    the shares of camouflaged, border-touching, perched images and of
    images with a distractor."""
    def collect(key):
        return [s[key] for s in all_stats]

    summary = {key: distribution(collect(key)) for key in (
        'box_area_fraction', 'object_area_fraction', 'outline_contrast',
        'edge_ratio', 'background_like_object')}
    for key in ('camouflaged', 'touches_border', 'perched', 'distractor'):
        summary[f'{key}_fraction'] = round(float(np.mean(collect(key))), 4)
    return summary


PRESET = Preset(
    name='cub_like',
    version=GENERATOR_VERSION,
    knobs=CubLikeKnobs,
    render_sample=render_sample,
    class_names=lambda num_classes, knobs: class_names(num_classes, knobs),
    max_classes=max_classes,
    description='a bird-like object (plumage x colour of a field mark '
    'on its head = class) '
    'in a natural scene, sized and placed like CUB-200-2011\'s birds',
    summarize=summarize,
    default_num_classes=12)
