"""Geometry of the synthetic images: shapes, rasterisation, placement.

Shapes are polygons (N×2 float arrays, x then y). They are made at unit
scale (radius ~1 around the origin), scaled and moved into image
coordinates, and rasterised either to a binary footprint (:func:`raster`,
fast, for areas and overlap tests) or to an anti-aliased coverage
(:func:`coverage`, for compositing and for the masks, so that the drawn
edge and the annotation agree). Pixel ``(x, y)`` is the square centred on
integer ``(x, y)`` (cv2's convention).

:func:`layout_object` lays out one object made of a body and an attached
elliptic part, fitting its visible area to a target.
"""
import math
from dataclasses import dataclass
from typing import List, Optional, Tuple

import cv2
import numpy as np

__all__ = [
    'SUPERSAMPLE', 'blob_polygon', 'rotate', 'body_polygons',
    'ellipse_polygon', 'raster', 'coverage', 'unit_area', 'ObjectLayout',
    'layout_object', 'place_away_from', 'dilate', 'fade_from'
]

SUPERSAMPLE = 4  # anti-aliasing factor of the coverage rasteriser
_FIXED_POINT_BITS = 4  # sub-pixel precision passed to cv2.fillPoly


def blob_polygon(rng, num_points=96) -> np.ndarray:
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
    return rotate(points, rng.uniform(0, 2 * math.pi))


def rotate(points, angle):
    """``points`` rotated by ``angle`` radians about the origin."""
    c, s = math.cos(angle), math.sin(angle)
    return points @ np.array([[c, s], [-s, c]])


def body_polygons(rng) -> List[np.ndarray]:
    """A body (or distractor) shape: one blob, sometimes with a second lobe
    (non-convex silhouettes, so a box is not the whole story)."""
    polygons = [blob_polygon(rng)]
    if rng.uniform() < 0.35:
        lobe = blob_polygon(rng) * rng.uniform(0.4, 0.7)
        direction = rng.uniform(0, 2 * math.pi)
        offset = rng.uniform(0.6, 0.9) * np.array(
            [math.cos(direction), math.sin(direction)])
        polygons.append(lobe + offset)
    return polygons


def ellipse_polygon(centre, radius, aspect, angle, num_points=48):
    """An ellipse of area ``pi * radius**2`` (semi-axes ``radius`` times
    ``aspect**-0.5`` and ``aspect**0.5``), rotated by ``angle``."""
    theta = np.linspace(0, 2 * math.pi, num_points, endpoint=False)
    points = np.stack([radius * aspect**-0.5 * np.cos(theta),
                       radius * aspect**0.5 * np.sin(theta)], 1)
    return rotate(points, angle) + centre


def _fill(canvas, polygons, to_canvas):
    """Fill each polygon separately (cv2.fillPoly XORs overlapping ones)."""
    scale = 1 << _FIXED_POINT_BITS
    for polygon in polygons:
        points = np.round(to_canvas(polygon) * scale).astype(np.int32)
        cv2.fillPoly(canvas, [points], 1, cv2.LINE_8, _FIXED_POINT_BITS)


def raster(polygons, width, height) -> np.ndarray:
    """Binary (pixel-centre) rasterisation, for fast area estimates."""
    canvas = np.zeros((height, width), np.uint8)
    _fill(canvas, polygons, lambda p: p)
    return canvas


def coverage(polygons, width, height) -> np.ndarray:
    """Anti-aliased coverage in [0, 1] of the union of ``polygons``.

    Each pixel is sampled on a ``SUPERSAMPLE``² grid, and only the
    polygons' bounding box is rasterised.
    """
    result = np.zeros((height, width), np.float32)
    if not polygons:
        return result
    stacked = np.concatenate(polygons)
    x0 = max(0, int(math.floor(stacked[:, 0].min())) - 1)
    y0 = max(0, int(math.floor(stacked[:, 1].min())) - 1)
    x1 = min(width, int(math.ceil(stacked[:, 0].max())) + 2)
    y1 = min(height, int(math.ceil(stacked[:, 1].max())) + 2)
    if x1 <= x0 or y1 <= y0:
        return result
    s = SUPERSAMPLE
    canvas = np.zeros(((y1 - y0) * s, (x1 - x0) * s), np.uint8)
    offset = np.array([x0, y0], np.float64)
    _fill(canvas, polygons, lambda p: (p - offset + 0.5) * s - 0.5)
    result[y0:y1, x0:x1] = cv2.resize(
        canvas.astype(np.float32), (x1 - x0, y1 - y0),
        interpolation=cv2.INTER_AREA)
    return result


def unit_area(polygons, pixels_per_unit=40, half_extent=5):
    """Area of the union of unit-scale polygons (raster estimate)."""
    size = 2 * half_extent * pixels_per_unit
    placed = [p * pixels_per_unit + size / 2 for p in polygons]
    return raster(placed, size, size).sum() / float(pixels_per_unit)**2


@dataclass
class ObjectLayout:
    """An object laid out in an image, polygons in image coordinates."""
    body: List[np.ndarray]
    part: np.ndarray
    core: np.ndarray  # the inner ellipse of the part
    scale: float  # linear size in pixels (sqrt of the full object area)
    part_radius: float  # the part ellipse's major semi-axis in pixels


def layout_object(rng, width, height, *,
                  object_area_range: Tuple[float, float],
                  part_fraction_range: Tuple[float, float],
                  border_prob: float,
                  min_visible_fraction: float) -> ObjectLayout:
    """Shape, size and position of a body with an attached elliptic part.

    The body is :func:`body_polygons`; the part is an ellipse centred near
    a point of the body's outline (partly inside, partly protruding) with
    ``part_fraction_range`` of the body's area, and a core ellipse inside
    it. The visible (in-image) area of body ∪ part is fitted to a
    log-uniform draw from ``object_area_range`` (times the image area).
    With probability ``border_prob``, or when the object cannot fit, it is
    placed anywhere; otherwise entirely inside. Layouts are redrawn until
    at least ``min_visible_fraction`` of the object is inside the image and
    the part is entirely inside (after 60 tries: the best one).
    """
    image_area = width * height
    low, high = object_area_range
    target = math.exp(rng.uniform(math.log(low), math.log(high))) * image_area
    part_fraction = rng.uniform(*part_fraction_range)
    best = None
    for _ in range(60):
        body = body_polygons(rng)
        unit_body_area = unit_area(body)
        part_radius = math.sqrt(part_fraction * unit_body_area / math.pi)
        anchor = body[0][rng.integers(len(body[0]))]
        outward = anchor / (np.linalg.norm(anchor) + 1e-9)
        part_centre = anchor + outward * part_radius * rng.uniform(-0.6, 0.25)
        part_aspect = rng.uniform(0.75, 1.0)
        part_angle = rng.uniform(0, math.pi)
        core_ratio = rng.uniform(0.45, 0.6)
        part = ellipse_polygon(part_centre, part_radius, part_aspect,
                               part_angle)
        core = ellipse_polygon(part_centre, part_radius * core_ratio,
                               part_aspect, part_angle)
        unit_object = body + [part]
        object_unit_area = unit_area(unit_object)
        scale = math.sqrt(target / object_unit_area)
        points = np.concatenate(unit_object) * scale
        low_corner, high_corner = points.min(0), points.max(0)
        fits = (high_corner - low_corner <= (width - 3, height - 3)).all()
        if rng.uniform() >= border_prob and fits:
            # entirely inside the image (no fitting needed)
            centre = np.array([
                rng.uniform(1 - low_corner[0], width - 2 - high_corner[0]),
                rng.uniform(1 - low_corner[1], height - 2 - high_corner[1])
            ])
        else:  # anywhere: may cross the border
            centre = np.array([rng.uniform(0, width),
                               rng.uniform(0, height)])
        for _ in range(6):  # fit the visible area to the target
            visible = raster([p * scale + centre for p in unit_object],
                             width, height).sum()
            if visible == 0:
                break
            if abs(visible / target - 1.0) < 0.02:
                break
            scale *= math.sqrt(target / visible)
        full = object_unit_area * scale**2
        part_img = part * scale + centre
        part_inside = (part_img[:, 0].min() >= 0.5
                       and part_img[:, 0].max() <= width - 1.5
                       and part_img[:, 1].min() >= 0.5
                       and part_img[:, 1].max() <= height - 1.5)
        visible_fraction = visible / full
        layout = ObjectLayout([p * scale + centre for p in body], part_img,
                              core * scale + centre, math.sqrt(full),
                              part_radius * scale)
        if part_inside and visible_fraction >= min_visible_fraction:
            return layout
        score = visible_fraction + (1.0 if part_inside else 0.0)
        if best is None or score > best[0]:
            best = (score, layout)
    return best[1]  # very rare: the best attempt


def place_away_from(rng, polygons_unit, size_px, keep_out, width, height,
                    tries=12) -> Optional[List[np.ndarray]]:
    """Put a shape (unit coordinates) of linear size ``size_px`` at a random
    position where it does not touch ``keep_out``; None if none found."""
    for _ in range(tries):
        centre = np.array([rng.uniform(0, width), rng.uniform(0, height)])
        placed = [p * size_px + centre for p in polygons_unit]
        footprint = raster(placed, width, height)
        if footprint.any() and not (footprint & keep_out).any():
            return placed
    return None


def dilate(mask, radius):
    """``mask`` (uint8 0/1) grown by a disc of ``int(radius)`` pixels; a
    radius of 1 adds the 4-neighbours (cv2's 3×3 ellipse is a cross)."""
    size = 2 * int(radius) + 1
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size))
    return cv2.dilate(mask.astype(np.uint8), kernel)


def ignore_band_and_box(object_mask, object_alpha):
    """The annotations of an object drawn with a soft edge: the ignore
    band (pixels of partial coverage or next to the mask, outside it) and
    the inclusive box of the mask."""
    ignore_mask = ((object_alpha > 0) | dilate(object_mask, 1).astype(bool)
                   ) & ~object_mask
    ys, xs = np.nonzero(object_mask)
    box = (int(xs.min()), int(ys.min()), int(xs.max()), int(ys.max()))
    return ignore_mask, box


def fade_from(region, width) -> np.ndarray:
    """1 on ``region``, falling linearly to 0 at ``width`` pixels from it
    (Euclidean distance), float32."""
    distance = cv2.distanceTransform((~region).astype(np.uint8), cv2.DIST_L2,
                                     5)
    return np.clip(1.0 - distance / max(width, 1e-6), 0.0, 1.0
                   ).astype(np.float32)
