"""Colours of the synthetic images (RGB, float32, 0-255 scale).

The class-neutral muted distribution, saturated part/decoy colours, alpha
compositing, and the contrast rule that keeps an object's outline visible
in colour statistics: :func:`local_background_means` measures the
background around the object sector by sector, and
:func:`pick_body_colour` takes the first candidate colour far enough from
every sector.

Colour functions that must not change the random stream with the label
take pre-drawn uniforms instead of a generator.
"""
import colorsys
import math

import cv2
import numpy as np

from .shapes import dilate

__all__ = [
    'NUM_CONTRAST_SECTORS', 'NUM_BODY_COLOUR_CANDIDATES', 'hsv_to_rgb255',
    'muted_colour', 'body_colour_candidate', 'saturated_colour',
    'composite', 'paint', 'local_background_means', 'pick_body_colour'
]

NUM_CONTRAST_SECTORS = 8
NUM_BODY_COLOUR_CANDIDATES = 48


def hsv_to_rgb255(h, s, v) -> np.ndarray:
    """HSV in [0, 1] (hue wraps) to an RGB float32 triple on 0-255."""
    return np.array(colorsys.hsv_to_rgb(h % 1.0, s, v), np.float32) * 255.0


def muted_colour(rng) -> np.ndarray:
    """The class-neutral colour distribution of bodies, distractors and
    background elements: any hue, low saturation, any brightness."""
    hue = rng.uniform(0, 1)
    saturation = rng.uniform(0.05, 0.45)
    value = rng.uniform(0.2, 0.95)
    return hsv_to_rgb255(hue, saturation, value)


def body_colour_candidate(draws, family_hue=None):
    """A body colour from three pre-drawn uniforms: the class-neutral muted
    distribution when ``family_hue`` is None, else a muted colour whose hue
    lies in ``family_hue = (centre, half_width)`` in degrees (saturation
    0.2–0.45 and brightness 0.35–0.95, so that the hue shows). The same
    draws serve both, so the label changes the colour, never the number of
    random draws."""
    u_hue, u_sat, u_val = draws
    if family_hue is None:
        # the expressions of Generator.uniform(low, high): the bytes of
        # muted_colour
        return hsv_to_rgb255(u_hue, 0.05 + (0.45 - 0.05) * u_sat,
                             0.2 + (0.95 - 0.2) * u_val)
    centre, half_width = family_hue
    hue = (centre + (2 * u_hue - 1) * half_width) / 360.0
    return hsv_to_rgb255(hue, 0.2 + 0.25 * u_sat, 0.35 + 0.6 * u_val)


def saturated_colour(hue_deg, jitter_draws, hue_jitter_deg) -> np.ndarray:
    """A part/decoy colour from pre-drawn uniforms (so the number of random
    draws never depends on the hue, i.e. on the label)."""
    u_hue, u_sat, u_val = jitter_draws
    hue = (hue_deg + (2 * u_hue - 1) * hue_jitter_deg) / 360.0
    return hsv_to_rgb255(hue, 0.75 + 0.25 * u_sat, 0.75 + 0.25 * u_val)


def composite(image, colour_layer, alpha):
    """``colour_layer`` over ``image`` with per-pixel opacity ``alpha``
    (H×W)."""
    alpha = alpha[..., None]
    return image * (1.0 - alpha) + colour_layer * alpha


def paint(image, colour_layer, alpha):
    """:func:`composite` in place, touching only the bounding box of
    ``alpha > 0`` (outside it the result would equal ``image`` exactly):
    what makes scenes of many small leaves and twigs cheap. ``colour_layer``
    is an RGB triple or an H×W×3 layer; returns ``image``."""
    x, y, w, h = cv2.boundingRect((alpha > 0).astype(np.uint8))
    if w == 0 or h == 0:
        return image
    window = (slice(y, y + h), slice(x, x + w))
    layer = np.asarray(colour_layer, np.float32)
    if layer.ndim == 3:
        layer = layer[window]
    a = alpha[window][..., None]
    image[window] = image[window] * (1.0 - a) + layer * a
    return image


def local_background_means(image, object_mask, ring_width):
    """Mean colour of each angular sector of a band around the object
    (band width ``ring_width``; sectors with fewer than 8 pixels are
    skipped)."""
    band = dilate(object_mask, ring_width).astype(bool) & ~object_mask
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


def pick_body_colour(rng, background_means, min_contrast, family_hue=None):
    """First candidate muted colour far enough from every sector mean, with
    its distance to the nearest one; the farthest candidate when none is
    far enough. The number of draws is fixed, so later draws do not shift.
    Candidates are class-neutral, or in the hue range ``family_hue`` when
    given (see :func:`body_colour_candidate`), plus near-black and
    near-white."""
    draws = rng.uniform(size=(NUM_BODY_COLOUR_CANDIDATES, 3))
    candidates = np.stack(
        [body_colour_candidate(d, family_hue) for d in draws] +
        [np.array([25.0, 25.0, 25.0], np.float32),
         np.array([235.0, 235.0, 235.0], np.float32)])
    distances = np.linalg.norm(
        candidates[:, None, :] - background_means[None, :, :], axis=2).min(1)
    ok = np.nonzero(distances >= min_contrast)[0]
    index = int(ok[0]) if len(ok) else int(distances.argmax())
    return candidates[index], float(distances[index])
