"""F-CAM's sampling regions: batched Otsu, C⁺/C⁻, seeds."""
import numpy as np
import pytest
import torch

from fcam_mm.models.utils import (cam_to_uint8, otsu_threshold,
                                  sample_pseudo_labels, sampling_regions)

IGNORE = 255


# --------------------------------------------------------------------------
# references
# --------------------------------------------------------------------------
def between_class_variance(values, threshold):
    """ω₀ ω₁ (μ₀ − μ₁)² of the split ``values <= threshold``."""
    low = values[values <= threshold]
    high = values[values > threshold]
    if low.size == 0 or high.size == 0:
        return -1.0
    w0, w1 = low.size / values.size, high.size / values.size
    return w0 * w1 * (low.mean() - high.mean())**2


def brute_force_otsu(values):
    """Try every threshold between distinct values; the smallest of the
    best ones (the largest value of the lower class)."""
    values = np.asarray(values, dtype=np.float64).ravel()
    candidates = np.unique(values)[:-1]
    scores = [between_class_variance(values, c) for c in candidates]
    return candidates[int(np.argmax(scores))], max(scores)


def random_histogram_map(rng, levels, size):
    """A map whose values are the grey levels 0 … levels-1 drawn from a
    random histogram (some bins empty), with 0 and levels-1 present."""
    probs = rng.random(levels) * (rng.random(levels) < 0.6)
    probs[[0, -1]] += 0.01
    values = rng.choice(levels, size=size, p=probs / probs.sum())
    values[0], values[1] = 0, levels - 1
    return values.astype(np.float64)


# --------------------------------------------------------------------------
# Otsu
# --------------------------------------------------------------------------
@pytest.mark.parametrize('levels', [256, 16, 3])
def test_otsu_matches_brute_force_on_random_histograms(levels):
    rng = np.random.default_rng(levels)
    maps = np.stack([random_histogram_map(rng, levels, 600)
                     for _ in range(12)])
    # with `levels` bins over [0, levels-1], one bin per grey level
    thresholds = otsu_threshold(torch.from_numpy(maps), bins=levels).numpy()
    for values, threshold in zip(maps, thresholds):
        ref_threshold, ref_score = brute_force_otsu(values)
        assert between_class_variance(values, threshold) == pytest.approx(
            ref_score, rel=1e-12)
        assert threshold == ref_threshold


def test_otsu_float_maps_against_quantized_brute_force():
    """Float maps: Otsu on the 256-level quantisation of each map."""
    gen = torch.Generator().manual_seed(3)
    maps = torch.cat([torch.rand(3, 20, 30, generator=gen)**2,
                      torch.randn(3, 20, 30, generator=gen) * 50 + 7])
    thresholds = otsu_threshold(maps, bins=256)
    assert thresholds.dtype == torch.float32
    for values, threshold in zip(maps.double().numpy(), thresholds):
        flat = values.ravel()
        low, high = flat.min(), flat.max()
        levels = np.minimum(np.floor((flat - low) * 256 / (high - low)), 255)
        ref_level, _ = brute_force_otsu(levels)
        expected = flat[levels <= ref_level].max()
        assert float(threshold) == pytest.approx(expected, rel=1e-6)
        # the region is exactly `x > t`
        np.testing.assert_array_equal(flat > float(threshold),
                                      levels > ref_level)


def test_otsu_bimodal_hand_case():
    values = torch.tensor([[0., 0., 0., 1., 1., 9., 9., 10., 10., 10.]])
    assert otsu_threshold(values).item() == 1.0
    assert otsu_threshold(values, bins=11).item() == 1.0
    shifted = values * 3 - 100  # affine maps keep the split
    assert otsu_threshold(shifted).item() == pytest.approx(-97.0)


def test_otsu_matches_opencv_on_uint8():
    cv2 = pytest.importorskip('cv2')
    rng = np.random.default_rng(0)
    maps = np.stack([random_histogram_map(rng, 256, (24, 24))
                     for _ in range(10)]).astype(np.uint8)
    thresholds = otsu_threshold(torch.from_numpy(maps).float())
    for image, threshold in zip(maps, thresholds):
        _, ref = cv2.threshold(image, 0, 1,
                               cv2.THRESH_BINARY + cv2.THRESH_OTSU)
        np.testing.assert_array_equal(image > float(threshold), ref > 0)


def test_otsu_degenerate_maps_are_nan():
    maps = torch.rand(4, 5, 5)
    maps[1] = 0.3
    maps[2, 2, 2] = float('nan')
    maps[3, 0, 0] = float('inf')
    thresholds = otsu_threshold(maps)
    assert torch.isfinite(thresholds[0])
    assert torch.isnan(thresholds[1:]).all()
    assert not (maps[1:] > thresholds[1:, None, None]).any()
    with pytest.raises(ValueError):
        otsu_threshold(maps, bins=1)


def test_cam_to_uint8_truncates_after_min_max():
    cams = torch.tensor([[[2., 4.], [3., 3.999]]])
    quantized, valid = cam_to_uint8(cams)
    assert valid.tolist() == [True]
    assert quantized.tolist() == [[0., 255., 127., 254.]]


# --------------------------------------------------------------------------
# regions
# --------------------------------------------------------------------------
def square_cam(size, top, left, side, low=0.1):
    cam = torch.full((size, size), low)
    cam[top:top + side, left:left + side] = 1.0
    return cam


def test_positive_region_is_eroded_otsu_region():
    cam = square_cam(40, 10, 12, 15)
    positive, _ = sampling_regions(cam[None], erode_kernel=11)
    expected = torch.zeros(40, 40, dtype=torch.bool)
    expected[15:20, 17:22] = True  # 15×15 eroded by 11×11 → 5×5
    assert torch.equal(positive[0], expected)
    positive, _ = sampling_regions(cam[None], erode_kernel=1)
    assert torch.equal(positive[0], cam > 0.5)


def test_erosion_falls_back_when_it_empties_the_region():
    cam = square_cam(30, 4, 6, 5)  # 5×5 < 11×11
    positive, _ = sampling_regions(cam[None], erode_kernel=11)
    assert torch.equal(positive[0], cam > 0.5)


def test_erosion_matches_opencv_border_handling():
    cv2 = pytest.importorskip('cv2')
    gen = torch.Generator().manual_seed(1)
    low = torch.rand(1, 1, 6, 6, generator=gen)
    cams = torch.nn.functional.interpolate(
        low, size=(48, 48), mode='bilinear', align_corners=False)[:, 0]
    cams[0, :20, :14] += 2.0  # a blob touching the border
    quantized, _ = cam_to_uint8(cams)
    threshold = max(otsu_threshold(quantized).item(), 1.0)
    region = (quantized.view(48, 48) > threshold).numpy().astype(np.uint8)
    reference = cv2.erode(region, np.ones((7, 7), np.uint8))
    positive, _ = sampling_regions(cams, erode_kernel=7)
    np.testing.assert_array_equal(positive[0].numpy(), reference > 0)


def test_negative_region_is_exact_fraction_of_lowest():
    gen = torch.Generator().manual_seed(0)
    cam = torch.randperm(100, generator=gen).float().view(1, 10, 10)
    for n_neg, count in [(0.1, 10), (0.37, 37), (0.29, 29), (0.999, 99)]:
        _, negative = sampling_regions(cam, n_neg=n_neg)
        assert int(negative.sum()) == count
        assert torch.equal(negative[0], cam[0] < count)


def test_negative_ties_are_broken_at_random():
    cam = torch.zeros(1, 10, 10)
    cam[0, 5:] = torch.arange(1, 51, dtype=torch.float).view(5, 10)
    covered = torch.zeros(10, 10, dtype=torch.bool)
    for seed in range(6):
        gen = torch.Generator().manual_seed(seed)
        _, negative = sampling_regions(cam, n_neg=0.1, generator=gen)
        assert int(negative.sum()) == 10
        assert not negative[0, 5:].any()  # only among the zeros
        covered |= negative[0]
    assert int(covered.sum()) > 10  # not always the first raster pixels


@pytest.mark.parametrize('n_neg', [0, 0.0, 1, 1.0, -0.1, 1.5, True, 'a'])
def test_invalid_n_neg(n_neg):
    with pytest.raises(ValueError, match='n_neg'):
        sample_pseudo_labels(torch.rand(1, 8, 8), n_neg=n_neg)


@pytest.mark.parametrize('kwargs', [
    dict(erode_kernel=10), dict(erode_kernel=0), dict(seed_size=2),
    dict(seed_size=0), dict(num_pos=-1), dict(num_neg=1.5),
    dict(ignore_index=1)
])
def test_invalid_arguments(kwargs):
    with pytest.raises(ValueError):
        sample_pseudo_labels(torch.rand(1, 8, 8), **kwargs)


def test_bad_shape():
    with pytest.raises(ValueError, match='B, H, W'):
        sample_pseudo_labels(torch.rand(8, 8))


# --------------------------------------------------------------------------
# seeds
# --------------------------------------------------------------------------
def smooth_cams(batch, size=32, seed=0):
    gen = torch.Generator().manual_seed(seed)
    low = torch.rand(batch, 1, 4, 4, generator=gen)
    return torch.nn.functional.interpolate(
        low, size=(size, size), mode='bilinear', align_corners=False)[:, 0]


def dilate(mask, size):
    return torch.nn.functional.max_pool2d(
        mask[:, None].float(), size, 1, size // 2)[:, 0] > 0


def test_seeds_lie_in_their_regions():
    cams = smooth_cams(6)
    gen = torch.Generator().manual_seed(0)
    positive, negative = sampling_regions(cams, n_neg=0.3)
    labels = sample_pseudo_labels(
        cams, n_neg=0.3, num_pos=3, num_neg=2, seed_size=1, generator=gen)
    assert labels.dtype == torch.int64 and labels.shape == cams.shape
    assert set(labels.unique().tolist()) <= {0, 1, IGNORE}
    assert not ((labels == 1) & ~positive).any()
    assert not ((labels == 0) & ~negative).any()
    assert ((labels == 1).flatten(1).sum(1) == 3).all()
    assert ((labels == 0).flatten(1).sum(1) == 2).all()
    gen = torch.Generator().manual_seed(0)
    grown = sample_pseudo_labels(cams, n_neg=0.3, generator=gen)
    assert not ((grown == 1) & ~dilate(positive, 3)).any()
    assert not ((grown == 0) & ~dilate(negative, 3)).any()


def test_seed_growth_is_clipped_square_around_the_centre():
    cams = smooth_cams(5, seed=4)
    centres = sample_pseudo_labels(
        cams, seed_size=1, generator=torch.Generator().manual_seed(7))
    grown = sample_pseudo_labels(
        cams, seed_size=5, generator=torch.Generator().manual_seed(7))
    for value in (0, 1):
        expected = dilate(centres == value, 5) & ~dilate(
            centres == 1 - value, 5)
        assert torch.equal(grown == value, expected)


def test_corner_seeds_are_clipped_at_the_border():
    cam = torch.linspace(0.05, 0.2, 100).view(10, 10)
    cam[0, 0] = 1.0  # C⁺ = {(0, 0)}
    cam[9, 9] = 0.0  # C⁻ = {(9, 9)} with n⁻ = 1 %
    positive, negative = sampling_regions(cam[None], n_neg=0.01,
                                          erode_kernel=1)
    assert positive.sum() == 1 and positive[0, 0, 0]
    assert negative.sum() == 1 and negative[0, 9, 9]
    labels = sample_pseudo_labels(cam[None], n_neg=0.01, erode_kernel=1)[0]
    expected = torch.full((10, 10), IGNORE)
    expected[:2, :2] = 1
    expected[8:, 8:] = 0
    assert torch.equal(labels, expected)


def test_overlapping_seeds_are_ignored():
    cam = torch.full((5, 5), 0.5)
    cam[0, 0], cam[4, 4] = 1.0, 0.0
    cam[2, 2] = 0.4  # make the middle values distinct from the corners
    labels = sample_pseudo_labels(cam[None], n_neg=0.04, erode_kernel=1,
                                  seed_size=7)[0]
    fg = torch.zeros(5, 5, dtype=torch.bool)
    fg[:4, :4] = True
    bg = torch.zeros(5, 5, dtype=torch.bool)
    bg[1:, 1:] = True
    assert torch.equal(labels == 1, fg & ~bg)
    assert torch.equal(labels == 0, bg & ~fg)
    assert torch.equal(labels == IGNORE, (fg & bg) | ~(fg | bg))


def test_degenerate_cams_get_no_seeds():
    cams = smooth_cams(4)
    cams[1] = 0.0
    cams[2] = 3.5
    cams[3, 5, 5] = float('nan')
    labels = sample_pseudo_labels(cams)
    assert (labels[0] != IGNORE).any()
    assert (labels[1:] == IGNORE).all()


def test_seeds_are_reproducible_with_a_generator():
    cams = smooth_cams(4)
    first = sample_pseudo_labels(
        cams, generator=torch.Generator().manual_seed(123))
    again = sample_pseudo_labels(
        cams, generator=torch.Generator().manual_seed(123))
    other = sample_pseudo_labels(
        cams, generator=torch.Generator().manual_seed(124))
    assert torch.equal(first, again)
    assert not torch.equal(first, other)


def test_batch_is_handled_per_image():
    cams = smooth_cams(5, seed=9)
    # distinct values, so that C⁻ has no tie to break at random
    cams = cams + 1e-6 * torch.randperm(
        cams[0].numel(), generator=torch.Generator().manual_seed(1)).view(
            cams.shape[1:])
    scales = torch.tensor([1., 1000., 1e-3, -1., 7.], dtype=torch.float64)
    cams = cams.double() * scales[:, None, None]
    cams[4] += 50.0
    positive, negative = sampling_regions(cams, n_neg=0.2)
    labels = sample_pseudo_labels(
        cams, n_neg=0.2, num_pos=2, num_neg=2,
        generator=torch.Generator().manual_seed(0))
    for i in range(len(cams)):
        pos_i, neg_i = sampling_regions(cams[i:i + 1], n_neg=0.2)
        assert torch.equal(pos_i[0], positive[i])
        assert torch.equal(neg_i[0], negative[i])
        # the seeds of image i come from image i's regions
        assert not ((labels[i] == 1) & ~dilate(pos_i, 3)[0]).any()
        assert not ((labels[i] == 0) & ~dilate(neg_i, 3)[0]).any()
        assert (labels[i] == 1).any() and (labels[i] == 0).any()


def test_accepts_channel_dimension_and_half_precision():
    cams = smooth_cams(2)
    gen = torch.Generator().manual_seed(5)
    a = sample_pseudo_labels(cams[:, None], generator=gen)
    gen = torch.Generator().manual_seed(5)
    b = sample_pseudo_labels(cams, generator=gen)
    assert torch.equal(a, b)
    assert sample_pseudo_labels(cams.half()).shape == cams.shape
