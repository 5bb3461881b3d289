"""Natural-looking scenes for the ``cub_like`` preset: backgrounds with the
statistics of outdoor photographs, clutter, illumination.

What real bird photographs have and the ``parts_hard`` backgrounds lack:

* one dominant *kind* of surrounding per photo — foliage, sky, water,
  ground/bark — each with its own palette and texture scale, and often
  out of focus (a shallow depth of field blurs it);
* smooth illumination that brightens one side of the frame;
* clutter whose statistics differ from the object's: thin, elongated,
  branching twigs and branches, and small leaves in foliage greens, rather
  than blobs that look like the object.

All functions return float32 RGB on the 0-255 scale and draw from the
generator they are given only (nothing here depends on the class label).
"""
import math
from typing import List, Tuple

import cv2
import numpy as np

from .colours import hsv_to_rgb255, paint
from .shapes import coverage, ellipse_polygon
from .textures import smooth_noise

__all__ = [
    'BACKGROUND_KINDS', 'natural_background', 'branch_polygons',
    'leaf_polygons', 'illumination_field'
]

#: background kinds and their probabilities (bird photographs: mostly
#: vegetation, then sky, ground or bark, water)
BACKGROUND_KINDS = (('foliage', 0.40), ('sky', 0.20), ('ground', 0.25),
                    ('water', 0.15))

#: (hue degrees low, high), (saturation low, high), (value low, high)
_PALETTES = dict(
    foliage=((65.0, 140.0), (0.25, 0.70), (0.18, 0.70)),
    sky=((190.0, 220.0), (0.05, 0.45), (0.65, 0.98)),
    ground=((15.0, 45.0), (0.15, 0.55), (0.20, 0.65)),
    water=((170.0, 215.0), (0.15, 0.55), (0.25, 0.75)),
)


def _palette_colour(rng, kind) -> np.ndarray:
    (h0, h1), (s0, s1), (v0, v1) = _PALETTES[kind]
    return hsv_to_rgb255(rng.uniform(h0, h1) / 360.0, rng.uniform(s0, s1),
                         rng.uniform(v0, v1))


def _blend_palette(rng, height, width, palette, cell) -> np.ndarray:
    """Regions of the palette's colours blended by smooth random weights."""
    logits = rng.uniform(1.5, 3.5) * smooth_noise(rng, height, width, cell,
                                                  len(palette))
    weights = np.exp(logits - logits.max(axis=2, keepdims=True))
    weights /= weights.sum(axis=2, keepdims=True)
    return weights @ np.stack(palette)


def natural_background(rng, height, width) -> Tuple[np.ndarray, str]:
    """A background of one of :data:`BACKGROUND_KINDS` (drawn with their
    probabilities), blurred by a random depth of field; returns the image
    and its kind.

    * foliage: 2-4 greens blended at a coarse scale, fine leaf texture,
      scattered small leaves;
    * sky: a vertical gradient from a deeper to a paler blue (or an
      overcast grey), soft clouds;
    * ground: browns and greys with coarse grain and pebbles;
    * water: blue-green or grey with horizontal ripples and a gradient.
    """
    names = [name for name, _ in BACKGROUND_KINDS]
    probs = np.array([p for _, p in BACKGROUND_KINDS])
    kind = names[int(rng.choice(len(names), p=probs / probs.sum()))]
    ys = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None, None]
    if kind == 'foliage':
        palette = [_palette_colour(rng, kind)
                   for _ in range(int(rng.integers(2, 5)))]
        field = _blend_palette(rng, height, width, palette,
                               rng.uniform(30.0, 90.0))
        field += rng.uniform(6.0, 16.0) * smooth_noise(
            rng, height, width, rng.uniform(2.0, 6.0), 1)
        for _ in range(int(rng.integers(8, 30))):
            leaf = leaf_polygons(rng, width, height,
                                 rng.uniform(0.02, 0.06) * width)
            field = paint(field, _palette_colour(rng, kind),
                              coverage(leaf, width, height))
    elif kind == 'sky':
        top, bottom = _palette_colour(rng, kind), _palette_colour(rng, kind)
        if rng.uniform() < 0.3:  # overcast: the same grey, light to lighter
            grey = rng.uniform(150.0, 235.0)
            top = np.full(3, grey, np.float32)
            bottom = np.full(3, min(250.0, grey + rng.uniform(0, 20)),
                             np.float32)
        field = np.broadcast_to(top * (1 - ys) + bottom * ys,
                                (height, width, 3)).copy()
        clouds = np.clip(smooth_noise(rng, height, width,
                                      rng.uniform(40.0, 100.0), 1), 0, None)
        field += rng.uniform(0.0, 25.0) * clouds
    elif kind == 'ground':
        palette = [_palette_colour(rng, kind)
                   for _ in range(int(rng.integers(2, 4)))]
        field = _blend_palette(rng, height, width, palette,
                               rng.uniform(25.0, 70.0))
        field += rng.uniform(8.0, 20.0) * smooth_noise(
            rng, height, width, rng.uniform(1.5, 4.0), 1)
        for _ in range(int(rng.integers(0, 15))):
            centre = np.array([rng.uniform(0, width), rng.uniform(0, height)])
            pebble = [ellipse_polygon(centre, rng.uniform(1.5, 5.0),
                                      rng.uniform(0.6, 1.0),
                                      rng.uniform(0, math.pi))]
            shade = rng.uniform(0.6, 1.3)
            field = paint(field, field.mean(axis=(0, 1)) * shade,
                              coverage(pebble, width, height))
    else:  # water
        near, far = _palette_colour(rng, kind), _palette_colour(rng, kind)
        field = np.broadcast_to(far * (1 - ys) + near * ys,
                                (height, width, 3)).copy()
        # horizontal ripples whose rows wobble slowly along x
        wobble = 2.0 * smooth_noise(rng, height, width,
                                    rng.uniform(20.0, 60.0), 1)[..., 0]
        rows = np.sin(np.arange(height, dtype=np.float32)[:, None] *
                      rng.uniform(0.5, 1.5) + wobble)
        field += (rng.uniform(4.0, 14.0) * rows)[..., None]
    blur = rng.uniform(0.0, 3.0)  # depth of field
    if blur > 0.3:
        field = cv2.GaussianBlur(field, (0, 0), blur)
    return field.astype(np.float32), kind


def leaf_polygons(rng, width, height, length) -> List[np.ndarray]:
    """A leaf: a pointed ellipse of ``length`` pixels at a random place."""
    centre = np.array([rng.uniform(0, width), rng.uniform(0, height)])
    aspect = rng.uniform(2.0, 3.5)
    radius = length / 2 / math.sqrt(aspect)
    return [ellipse_polygon(centre, radius, 1.0 / aspect,
                            rng.uniform(0, math.pi), num_points=24)]


def _branch_outline(points, widths) -> np.ndarray:
    """Polygon around a polyline with a width per vertex (a tapering
    limb)."""
    points = np.asarray(points, np.float64)
    tangents = np.gradient(points, axis=0)
    tangents /= np.linalg.norm(tangents, axis=1, keepdims=True) + 1e-9
    normals = np.stack([-tangents[:, 1], tangents[:, 0]], 1)
    half = np.asarray(widths)[:, None] / 2
    return np.concatenate([points + normals * half,
                           (points - normals * half)[::-1]])


def branch_polygons(rng, width, height, thickness, start=None,
                    direction=None) -> List[np.ndarray]:
    """A branch: a gently curving limb of ``thickness`` pixels that tapers
    and crosses much of the frame, with 0-3 thinner twigs. Thin and
    elongated: nothing like the compact object."""
    size = max(width, height)
    if start is None:
        start = np.array([rng.uniform(-0.1, 1.1) * width,
                          rng.uniform(-0.1, 1.1) * height])
    angle = rng.uniform(0, 2 * math.pi) if direction is None else direction
    length = rng.uniform(0.6, 1.3) * size
    steps = 16
    bend = rng.uniform(-0.6, 0.6) / steps
    points, heading, point = [], angle, np.asarray(start, np.float64)
    for _ in range(steps + 1):
        points.append(point.copy())
        point = point + length / steps * np.array([math.cos(heading),
                                                   math.sin(heading)])
        heading += bend + rng.uniform(-0.08, 0.08)
    taper = np.linspace(1.0, rng.uniform(0.3, 0.7), steps + 1)
    polygons = [_branch_outline(points, thickness * taper)]
    for _ in range(int(rng.integers(0, 4))):
        k = int(rng.integers(3, steps - 2))
        side = 1.0 if rng.uniform() < 0.5 else -1.0
        twig_angle = angle + side * rng.uniform(0.4, 1.1)
        twig_length = rng.uniform(0.15, 0.35) * size
        twig = [points[k] + t * twig_length * np.array(
            [math.cos(twig_angle), math.sin(twig_angle)])
            for t in np.linspace(0, 1, 6)]
        twig_width = thickness * taper[k] * rng.uniform(0.3, 0.5) * \
            np.linspace(1.0, 0.4, 6)
        polygons.append(_branch_outline(twig, twig_width))
    return polygons


def illumination_field(rng, height, width) -> np.ndarray:
    """A smooth multiplicative light field (H, W, 1): a linear gradient
    across the frame (one side brighter, ×0.8-1.2) plus a slow
    undulation."""
    angle = rng.uniform(0, 2 * math.pi)
    strength = rng.uniform(0.0, 0.2)
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    ramp = (xs / width - 0.5) * math.cos(angle) + \
        (ys / height - 0.5) * math.sin(angle)
    field = 1.0 + 2 * strength * ramp
    field += rng.uniform(0.0, 0.05) * smooth_noise(
        rng, height, width, rng.uniform(60.0, 150.0), 1)[..., 0]
    return field[..., None].astype(np.float32)


def photographed(image, rng) -> np.ndarray:
    """A composed float scene as a photograph: lit by
    :func:`illumination_field`, with Gaussian sensor grain (σ 0.5–3 grey
    levels), rounded to uint8."""
    height, width = image.shape[:2]
    image = image * illumination_field(rng, height, width)
    grain = rng.uniform(0.5, 3.0) * rng.standard_normal(
        (height, width, 3)).astype(np.float32)
    return np.clip(np.round(image + grain), 0, 255).astype(np.uint8)
