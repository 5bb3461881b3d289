"""Bird-like objects for the ``cub_like`` preset: a silhouette made of a
body, a head, a beak and a tail, with the internal regions (wing, belly,
eye) and the head markings that tell a class apart.

Shapes are built in a *bird frame* — body centre at the origin, ``+x``
towards the head, ``+y`` towards the belly, body half-length 1 — then
mirrored (the bird faces left or right), rotated (perched upright or
level) and scaled into the image by :func:`place_bird`.
"""
import math
from dataclasses import dataclass
from typing import List, Tuple

import numpy as np

from .shapes import ellipse_polygon, raster, rotate

__all__ = [
    'MARKINGS', 'BirdShape', 'bird_shape', 'marking_polygons',
    'PlacedBird', 'place_bird'
]

#: Shapes of the head's field mark, as field guides name them. Which one
#: an image shows is drawn per image; the class is the mark's colour.
MARKINGS = ('eyestripe', 'crown', 'eyering', 'bib', 'cheek', 'collar',
            'hood')

#: uniforms every marking draws, whichever is rendered (so that the label
#: never changes how many random numbers an image consumes)
MARKING_DRAWS = 4


@dataclass
class BirdShape:
    """Polygons of one bird in its own frame (unit body half-length)."""
    body: np.ndarray
    head: np.ndarray
    beak: np.ndarray
    tail: np.ndarray
    wing: np.ndarray
    head_centre: np.ndarray
    head_radius: float
    eye_centre: np.ndarray
    eye_radius: float
    body_minor: float  # the body's semi-minor axis

    def silhouette(self) -> List[np.ndarray]:
        """The polygons whose union is the annotated object."""
        return [self.body, self.head, self.beak, self.tail]


def _wobbly_ellipse(rng, a, b, num_points=72) -> np.ndarray:
    """An ellipse with semi-axes ``a`` (x) and ``b`` (y) whose radius
    wobbles a little (low harmonics, at most ~5 %): a plump, smooth body."""
    theta = np.linspace(0, 2 * math.pi, num_points, endpoint=False)
    wobble = np.ones(num_points)
    for k in (2, 3, 4):
        wobble += rng.uniform(0, 0.05) / k * np.cos(
            k * theta + rng.uniform(0, 2 * math.pi))
    return np.stack([a * np.cos(theta) * wobble, b * np.sin(theta) * wobble],
                    1)


def bird_shape(rng, head_scale: float = 1.0) -> BirdShape:
    """A random bird in its frame: a plump body (semi-minor axis 0.42-0.6
    of the half-length), a raised head (radius 0.27-0.38) at the front, a
    pointed beak, a tail wedge at the back (0.3-0.8 long, raised or
    lowered), a wing ellipse over the back half of the body, an eye.
    ``head_scale`` multiplies the head's radius (same random draws)."""
    b = rng.uniform(0.48, 0.68)
    body = _wobbly_ellipse(rng, 1.0, b)
    r = rng.uniform(0.27, 0.38) * head_scale
    head_centre = np.array([rng.uniform(0.80, 0.98),
                            -rng.uniform(0.15, 0.45) * b])
    head = ellipse_polygon(head_centre, r, rng.uniform(0.9, 1.0),
                           rng.uniform(0, math.pi), num_points=40)
    # beak: a triangle from the front of the head, tip slightly down
    beak_length = rng.uniform(0.12, 0.35)
    beak_half = rng.uniform(0.05, 0.09)
    tilt = rng.uniform(-0.1, 0.35)
    forward = np.array([math.cos(tilt), math.sin(tilt)])
    normal = np.array([-forward[1], forward[0]])
    base = head_centre + forward * r * 0.85
    beak = np.stack([base + normal * beak_half,
                     base + forward * (beak_length + 0.15 * r),
                     base - normal * beak_half])
    # tail: a wedge from the rear of the body
    tail_length = rng.uniform(0.3, 0.8)
    spread = rng.uniform(0.04, 0.18)
    root = np.array([-0.85, 0.0])
    tail = np.array([[0.0, -0.22 * b], [-tail_length, -0.12 * b - spread],
                     [-tail_length, 0.05 * b + spread], [0.0, 0.18 * b]])
    tail = rotate(tail, rng.uniform(-0.45, 0.3)) + root
    # the wing covers the upper back half of the body (a unit circle
    # stretched to its semi-axes, then moved)
    wing_centre = np.array([rng.uniform(-0.3, 0.0),
                            -rng.uniform(0.05, 0.2) * b])
    wing_axes = np.array([rng.uniform(0.55, 0.75),
                          rng.uniform(0.42, 0.6) * b])
    wing = ellipse_polygon(np.zeros(2), 1.0, 1.0, 0.0,
                           num_points=48) * wing_axes + wing_centre
    eye_centre = head_centre + np.array([0.35 * r, -0.12 * r])
    return BirdShape(body=body, head=head, beak=beak, tail=tail, wing=wing,
                     head_centre=head_centre, head_radius=r,
                     eye_centre=eye_centre, eye_radius=0.13 * r,
                     body_minor=b)


def marking_polygons(shape: BirdShape, marking: int,
                     draws: np.ndarray) -> List[np.ndarray]:
    """The polygons of the field mark of shape ``marking`` (an index of
    :data:`MARKINGS`) in the bird frame, from ``MARKING_DRAWS`` pre-drawn
    uniforms. They may overflow the head; the renderer clips them to the
    object."""
    h, r, e = shape.head_centre, shape.head_radius, shape.eye_centre
    u = np.asarray(draws, np.float64)
    name = MARKINGS[marking]
    if name == 'eyestripe':  # a band through the eye, front to back
        half_width = r * (0.25 + 0.1 * u[0])
        length = r * (1.6 + 0.4 * u[1])
        x0, x1 = e[0] - length * 0.75, e[0] + length * 0.25
        return [np.array([[x0, e[1] - half_width], [x1, e[1] - half_width],
                          [x1, e[1] + half_width], [x0, e[1] + half_width]])]
    if name == 'crown':  # a cap over the top of the head
        centre = h + np.array([-0.1 * r, -(0.75 + 0.15 * u[0]) * r])
        return [ellipse_polygon(centre, r * (0.75 + 0.15 * u[1]), 0.7, 0.0)]
    if name == 'eyering':  # a light ring; the eye is drawn on top
        return [ellipse_polygon(e, r * (0.4 + 0.1 * u[0]), 1.0, 0.0,
                                num_points=24)]
    if name == 'bib':  # the throat, under the head
        centre = h + np.array([(0.1 + 0.15 * u[0]) * r,
                               (0.7 + 0.15 * u[1]) * r])
        return [ellipse_polygon(centre, r * (0.6 + 0.15 * u[2]), 1.4, 0.0)]
    if name == 'cheek':  # a patch below and behind the eye
        centre = e + np.array([-(0.25 + 0.1 * u[0]) * r,
                               (0.35 + 0.1 * u[1]) * r])
        return [ellipse_polygon(centre, r * (0.42 + 0.1 * u[2]), 1.0, 0.0)]
    if name == 'collar':  # a band across the nape and neck
        centre = h + np.array([-(0.85 + 0.1 * u[0]) * r, 0.1 * r])
        return [ellipse_polygon(centre, r * (0.5 + 0.1 * u[1]), 0.45,
                                math.pi / 2 + 0.3 * (u[2] - 0.5))]
    if name == 'hood':  # most of the head
        return [ellipse_polygon(h + np.array([0.05 * r, -0.05 * r]),
                                r * (0.9 + 0.1 * u[0]), 1.0, 0.0)]
    raise ValueError(f'marking must be in [0, {len(MARKINGS)}), got '
                     f'{marking}')


@dataclass
class PlacedBird:
    """A bird in image coordinates: ``to_image`` maps bird-frame points."""
    shape: BirdShape
    centre: np.ndarray
    scale: float
    angle: float
    facing: float  # +1 facing right, -1 facing left

    def to_image(self, points) -> np.ndarray:
        points = np.asarray(points, np.float64) * (self.facing, 1.0)
        return rotate(points, self.angle) * self.scale + self.centre

    def vector(self, direction) -> np.ndarray:
        """A bird-frame direction in image coordinates (unit length)."""
        v = rotate(np.asarray(direction, np.float64)[None] *
                   (self.facing, 1.0), self.angle)[0]
        return v / (np.linalg.norm(v) + 1e-12)

    def silhouette(self) -> List[np.ndarray]:
        return [self.to_image(p) for p in self.shape.silhouette()]


def _unit_box(shape, facing, angle) -> Tuple[np.ndarray, np.ndarray]:
    points = np.concatenate(shape.silhouette()) * (facing, 1.0)
    points = rotate(points, angle)
    return points.min(0), points.max(0)


def place_bird(rng, shape: BirdShape, width: int, height: int, *,
               box_area: float, centre_sigma: Tuple[float, float],
               upright_prob: float, border_prob: float,
               min_visible_fraction: float) -> PlacedBird:
    """Pose, size and position of ``shape`` in a ``width × height`` image.

    The bird faces left or right (even odds) and is tilted: level
    (-35° to 35°) or, with ``upright_prob``, perched upright (40° to 75°,
    head up). Its bounding box area is ``box_area`` of the image (shrunk
    if the box would not fit), and the box centre is the image centre plus
    a Gaussian offset of ``centre_sigma`` (fractions of W and H, as the
    spread of CUB's box centres). The box is kept inside the image, except
    with ``border_prob``, when the offset is free and the bird may cross the
    border (at least ``min_visible_fraction`` of it stays visible; retried
    otherwise).
    """
    facing = 1.0 if rng.uniform() < 0.5 else -1.0
    if rng.uniform() < upright_prob:
        angle = -facing * math.radians(rng.uniform(40.0, 75.0))  # head up
    else:
        angle = math.radians(rng.uniform(-35.0, 35.0))
    low, high = _unit_box(shape, facing, angle)
    extent = high - low
    scale = math.sqrt(box_area * width * height / (extent[0] * extent[1]))
    scale = min(scale, 0.98 * width / extent[0], 0.98 * height / extent[1])
    size = extent * scale
    crossing = rng.uniform() < border_prob
    # a crossing bird's box centre is anywhere in the frame
    offsets = (rng.uniform(-0.5, 0.5, (8, 2)) if crossing else
               rng.standard_normal((8, 2)) * np.asarray(centre_sigma)) * \
        (width, height)
    unit_centre = (low + high) / 2 * scale  # box centre relative to origin
    full_area = None
    for k in range(len(offsets)):
        box_centre = np.array([width / 2, height / 2]) + offsets[k]
        if not crossing:
            box_centre = np.clip(box_centre, size / 2 + 1,
                                 (width - 1, height - 1) - size / 2)
        bird = PlacedBird(shape, box_centre - unit_centre, scale, angle,
                          facing)
        if not crossing:
            return bird
        if full_area is None:  # the whole bird, on a canvas of its own
            posed = [rotate(p * (facing, 1.0), angle) * scale - low * scale
                     + 2 for p in shape.silhouette()]
            full_area = raster(posed, int(size[0]) + 5,
                               int(size[1]) + 5).sum()
        visible = raster(bird.silhouette(), width, height).sum()
        if visible >= min_visible_fraction * full_area:
            return bird
    # no crossing position kept enough of the bird: centre it fully inside
    box_centre = np.clip(np.array([width / 2, height / 2]) + offsets[0],
                         size / 2 + 1, (width - 1, height - 1) - size / 2)
    return PlacedBird(shape, box_centre - unit_centre, scale, angle, facing)
