"""Procedural textures and backgrounds (float RGB, 0-255 scale).

Smooth noise and stripes are the building blocks; :func:`texture_offset`
is the class-neutral surface pattern of bodies and distractors (added to
a base colour), :func:`background` a textured, cluttered scene.
"""
import math

import cv2
import numpy as np

from .colours import muted_colour

__all__ = [
    'smooth_noise', 'stripes', 'colour_direction', 'texture_offset',
    'background'
]


def smooth_noise(rng, height, width, cell, channels=1) -> np.ndarray:
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


def stripes(rng, height, width, period_range) -> np.ndarray:
    """A (H, W, 1) stripe pattern in [-1, 1], random angle/period/sharpness."""
    angle = rng.uniform(0, math.pi)
    period = rng.uniform(*period_range)
    phase = rng.uniform(0, 2 * math.pi)
    sharpness = rng.uniform(1.0, 4.0)
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    t = (xs * math.cos(angle) + ys * math.sin(angle)) * (2 * math.pi / period)
    wave = np.tanh(sharpness * np.sin(t + phase)) / math.tanh(sharpness)
    return wave[..., None]


def colour_direction(rng) -> np.ndarray:
    """A unit RGB direction biased towards luminance (texture contrast)."""
    direction = np.ones(3, np.float32) + 0.6 * rng.standard_normal(3).astype(
        np.float32)
    return direction / (np.linalg.norm(direction) + 1e-6)


def texture_offset(rng, height, width, scale) -> np.ndarray:
    """The class-neutral texture shared by bodies and distractors, as an
    offset (H, W, 3) to add to the base colour.

    ``scale`` is the object's linear size in pixels, so patterns scale with
    the object. The amplitude (8-20, spots up to 30) stays below the
    parts_hard preset's default ``min_body_contrast`` (50) so that the mean
    colour keeps telling the object from its surroundings.
    """
    kind = rng.integers(4)  # 0 plain, 1 smooth noise, 2 spots, 3 stripes
    amplitude = rng.uniform(8.0, 20.0)
    offset = np.zeros((height, width, 3), np.float32)
    if kind == 1:
        offset += amplitude * smooth_noise(
            rng, height, width, max(3.0, scale * rng.uniform(0.05, 0.2)), 3)
    elif kind == 2:
        spots = smooth_noise(rng, height, width,
                             max(2.0, scale * rng.uniform(0.04, 0.1)))
        spots = np.clip((spots - 0.8) * 3.0, 0.0, 1.0)  # sparse blobs
        sign = 1.0 if rng.uniform() < 0.5 else -1.0
        offset += sign * 1.5 * amplitude * spots * colour_direction(rng)
    elif kind == 3:
        period = (max(4.0, scale * 0.06), max(6.0, scale * 0.25))
        offset += amplitude * stripes(rng, height, width, period) * \
            colour_direction(rng)
    # shading: a linear brightness gradient across the object
    angle = rng.uniform(0, 2 * math.pi)
    strength = rng.uniform(0.0, 15.0)
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    ramp = (xs * math.cos(angle) + ys * math.sin(angle)) / max(scale, 1.0)
    ramp -= ramp.mean()
    offset += (strength * np.clip(ramp, -1.0, 1.0))[..., None]
    return offset


def background(rng, height, width) -> np.ndarray:
    """A textured, cluttered background (float RGB, 0-255 scale).

    Regions of 2-4 muted colours (the same distribution as bodies) blended
    by smooth random weights, then at random: fine smooth noise, stripes,
    soft blobs. Grain is added to the whole image later.
    """
    num_colours = int(rng.integers(2, 5))
    palette = np.stack([muted_colour(rng) for _ in range(num_colours)])
    cell = rng.uniform(40.0, 140.0)
    logits = rng.uniform(1.5, 4.0) * smooth_noise(rng, height, width, cell,
                                                  num_colours)
    weights = np.exp(logits - logits.max(axis=2, keepdims=True))
    weights /= weights.sum(axis=2, keepdims=True)
    field = weights @ palette
    field += 12.0 * smooth_noise(rng, height, width, cell, 1) * \
        colour_direction(rng)
    if rng.uniform() < 0.6:  # fine smooth noise
        field += rng.uniform(5.0, 15.0) * smooth_noise(
            rng, height, width, rng.uniform(2.0, 8.0), 1) * \
            colour_direction(rng)
    if rng.uniform() < 0.4:  # stripes
        field += rng.uniform(8.0, 25.0) * stripes(
            rng, height, width, (6.0, 40.0)) * colour_direction(rng)
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
            field = field * (1 - alpha) + muted_colour(rng) * alpha
    return field
