"""The embedded synthetic WSOL dataset: determinism, a consistent
wsolevaluation layout, and the properties that make it a fair WSOL test
(object sizes, a small discriminative part, class-neutral bodies); the
preset registry, and the parts_hard output pinned to the bytes of the
single-module generator it was split from."""
import hashlib
import importlib.util
import os
import os.path as osp
import shlex
import subprocess
import sys
from dataclasses import dataclass
from typing import Tuple

import cv2
import numpy as np
import pytest

from fcam_mm.datasets.metadata import (read_boxes, read_class_labels,
                                       read_image_ids, read_image_sizes,
                                       read_masks)
from fcam_mm.datasets.synthetic import (MAX_CLASSES, SPLITS, KnobsBase,
                                        Preset, SyntheticKnobs,
                                        body_family_hue_range, class_names,
                                        generate_synthetic_dataset,
                                        image_rng, make_preview,
                                        preset_names, register_preset,
                                        render_preset_sample, render_sample)
from fcam_mm.datasets.synthetic import presets as presets_module

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def generate_parts_hard(*args, **kwargs):
    """The writer with this file's preset: these tests are parts_hard's
    (the default preset is cub_like, tests/test_datasets/
    test_synthetic_cub_like.py)."""
    return generate_synthetic_dataset(*args, preset='parts_hard', **kwargs)
CLI = osp.join(REPO, 'tools', 'dataset_converters', 'make_synthetic.py')
TINY = dict(train=2, val=1, test=1)


def tree_hashes(root):
    """{relative path: sha256} of every file under ``root``."""
    hashes = {}
    for folder, _, files in os.walk(root):
        for name in files:
            path = osp.join(folder, name)
            with open(path, 'rb') as f:
                hashes[osp.relpath(path, root)] = hashlib.sha256(
                    f.read()).hexdigest()
    return hashes


def read_lines(path):
    with open(path) as f:
        return [line.rstrip('\n') for line in f]


@pytest.fixture(scope='module')
def small_dataset(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('synthetic'))
    per_class = dict(train=3, val=2, test=2)
    summary = generate_parts_hard(root, seed=1, num_classes=4,
                                         per_class=per_class)
    return root, per_class, summary


def test_same_seed_same_bytes_and_stable_subsets(tmp_path):
    first, second, bigger, other_seed = (str(tmp_path / name) for name in
                                         ('a', 'b', 'c', 'd'))
    generate_parts_hard(first, seed=5, num_classes=3, per_class=TINY)
    generate_parts_hard(second, seed=5, num_classes=3, per_class=TINY)
    a, b = tree_hashes(first), tree_hashes(second)
    assert len(a) == 3 * 4 * 3 + 5 * 3 + 2  # 3 files/image, 5/split, 2 more
    assert a == b

    # a subset is stable: more images per class keep the first ones as is
    generate_parts_hard(bigger, seed=5, num_classes=3,
                               per_class=dict(train=3, val=1, test=1))
    c = tree_hashes(bigger)
    for path, digest in a.items():
        if path.startswith(('images', 'masks')):
            assert c[path] == digest, path
    assert set(a) < set(c)

    generate_parts_hard(other_seed, seed=6, num_classes=3,
                               per_class=TINY)
    d = tree_hashes(other_seed)
    assert set(d) == set(a)
    images = [p for p in a if p.startswith('images')]
    assert all(a[p] != d[p] for p in images)
    assert a[osp.join('metadata', 'train', 'localization.txt')] != \
        d[osp.join('metadata', 'train', 'localization.txt')]


def test_metadata_is_consistent(small_dataset):
    root, per_class, summary = small_dataset
    num_classes = 4
    assert read_lines(osp.join(root, 'metadata', 'class_names.txt')) == \
        class_names(num_classes) == summary['class_names']
    assert osp.isfile(osp.join(root, 'README.txt'))
    for split in SPLITS:
        folder = osp.join(root, 'metadata', split)
        ids = read_image_ids(osp.join(folder, 'image_ids.txt'))
        labels = read_class_labels(osp.join(folder, 'class_labels.txt'),
                                   num_classes)
        sizes = read_image_sizes(osp.join(folder, 'image_sizes.txt'))
        boxes = read_boxes(osp.join(folder, 'localization.txt'), sizes)
        masks = read_masks(osp.join(folder, 'localization_mask.txt'))
        assert len(ids) == per_class[split] * num_classes == \
            summary['counts'][split]
        for table in (labels, sizes, boxes, masks):
            assert list(table) == ids  # every image, same order
        # every file has exactly one line per image (one object per image)
        for name in ('class_labels', 'image_sizes', 'localization',
                     'localization_mask'):
            assert len(read_lines(osp.join(folder, name + '.txt'))) == \
                len(ids)
        counts = np.bincount(list(labels.values()), minlength=num_classes)
        assert counts.tolist() == [per_class[split]] * num_classes

        for index, image_id in enumerate(ids):
            label = labels[image_id]
            assert image_id == f'{split}/{label:02d}/{split}_{index:05d}.jpg'
            image = cv2.imread(osp.join(root, 'images', image_id))
            height, width = image.shape[:2]
            assert sizes[image_id] == (width, height)
            assert 160 <= width <= 256 and 160 <= height <= 256

            (mask_path, ), ignore_path = masks[image_id]
            stem = image_id[:-len('.jpg')]
            assert (mask_path, ignore_path) == (f'{stem}_mask.png',
                                                f'{stem}_ignore.png')
            mask = cv2.imread(osp.join(root, 'masks', mask_path),
                              cv2.IMREAD_UNCHANGED)
            ignore = cv2.imread(osp.join(root, 'masks', ignore_path),
                                cv2.IMREAD_UNCHANGED)
            for png in (mask, ignore):
                assert png.shape == (height, width)
                assert png.dtype == np.uint8
                assert set(np.unique(png)) <= {0, 255}
            assert mask.any() and ignore.any()
            assert not (ignore & mask).any()  # ignore excludes the object

            (x0, y0, x1, y1), = boxes[image_id]
            assert 0 <= x0 <= x1 < width and 0 <= y0 <= y1 < height
            ys, xs = np.nonzero(mask)
            assert (x0, y0, x1, y1) == (xs.min(), ys.min(), xs.max(),
                                        ys.max())


def test_ignore_band_is_thin_and_hugs_the_object():
    sample = render_sample(0, 'val', 3, 2)
    obj, ignore = sample['object_mask'], sample['ignore_mask']
    assert not (obj & ignore).any()
    near = cv2.dilate(obj.astype(np.uint8), np.ones((5, 5), np.uint8))
    assert not (ignore & ~near.astype(bool)).any()  # within 2 px
    outline = cv2.dilate(obj.astype(np.uint8), np.ones((3, 3), np.uint8))
    outline = outline.astype(bool) & ~obj
    assert ignore.sum() <= 1.5 * outline.sum()


def test_object_sizes_and_discriminative_part():
    """On a moderate sample: object areas spread over ~5-60 % of the image,
    the part lies inside the object and covers a small fraction of it."""
    knobs = SyntheticKnobs()
    areas, part_fractions, contrasts, border = [], [], [], []
    for index in range(160):
        sample = render_sample(0, 'train', index, index % MAX_CLASSES, knobs)
        obj, part = sample['object_mask'], sample['part_mask']
        height, width = obj.shape
        assert part.any()
        assert not (part & ~obj).any()
        # the part (the class evidence) is never cut by the image border
        assert not (part[0].any() or part[-1].any() or part[:, 0].any()
                    or part[:, -1].any())
        areas.append(obj.sum() / (height * width))
        part_fractions.append(part.sum() / obj.sum())
        contrasts.append(sample['stats']['body_contrast'])
        border.append(sample['stats']['touches_border'])
        assert sample['stats']['object_area_fraction'] == areas[-1]
    areas = np.array(areas)
    assert 0.045 <= areas.min() and areas.max() <= 0.62
    assert np.quantile(areas, 0.1) < 0.08 and np.quantile(areas, 0.9) > 0.4
    # log-uniform: each of these bins holds a sizeable share
    for low, high in ((0.05, 0.12), (0.12, 0.3), (0.3, 0.6)):
        assert ((areas >= low) & (areas < high)).mean() > 0.15, (low, high)
    part_fractions = np.array(part_fractions)
    assert 0.06 <= part_fractions.min() and part_fractions.max() <= 0.25
    assert 0.11 <= np.median(part_fractions) <= 0.17
    # the body stands out from its local background (measured after grain)
    assert min(contrasts) >= 0.8 * knobs.min_body_contrast
    assert np.median(contrasts) >= knobs.min_body_contrast
    assert 0.02 < np.mean(border) < 0.5  # objects touch the border sometimes


def test_label_changes_only_the_part():
    """Bodies, background and clutter are class-neutral: another label
    changes only pixels of the discriminative part."""
    a = render_sample(2, 'test', 7, 0)
    b = render_sample(2, 'test', 7, 9)
    for key in ('object_mask', 'part_mask', 'ignore_mask'):
        assert (a[key] == b[key]).all()
    assert a['box'] == b['box']
    changed = (a['image'] != b['image']).any(axis=2)
    part_zone = cv2.dilate(a['part_mask'].astype(np.uint8),
                           np.ones((3, 3), np.uint8)).astype(bool)
    assert changed.any()
    assert not (changed & ~part_zone).any()
    assert changed[a['part_mask']].mean() > 0.9


def test_part_blend_shades_the_part_into_the_body():
    """part_blend > 0 changes nothing but object pixels within
    part_blend part radii of the part (same geometry, same clutter), and
    there the body's colour moves towards the part's ring."""
    for index in range(4):
        sharp = render_sample(3, 'val', index, 2)
        knobs = SyntheticKnobs(part_blend=1.5)
        soft = render_sample(3, 'val', index, 2, knobs)
        for key in ('object_mask', 'part_mask', 'ignore_mask'):
            assert (sharp[key] == soft[key]).all()
        assert sharp['box'] == soft['box']
        part = soft['part_mask']
        ys, xs = np.nonzero(part)
        # the part ellipse's major semi-axis, bounded by the mask's extent
        radius = 0.5 * max(xs.max() - xs.min(), ys.max() - ys.min()) + 2
        distance = cv2.distanceTransform((~part).astype(np.uint8),
                                         cv2.DIST_L2, 5)
        zone = distance < 1.5 * radius + 2
        changed = (sharp['image'] != soft['image']).any(axis=2)
        assert changed.any()
        assert not (changed & ~(soft['object_mask'] | soft['ignore_mask'])
                    ).any()
        assert not (changed & ~zone).any()
        # body pixels next to the part: closer to the ring colour than before
        ring = np.median(sharp['image'][part].astype(float), axis=0)
        near = soft['object_mask'] & ~part & (distance <= 0.5 * radius) & \
            (distance >= 2)
        if near.sum() >= 10:
            before = np.linalg.norm(sharp['image'][near] - ring, axis=1)
            after = np.linalg.norm(soft['image'][near] - ring, axis=1)
            assert np.median(after) < np.median(before)
    # with a blend, the label still changes only the part and its fade zone
    a = render_sample(2, 'test', 7, 0, knobs)
    b = render_sample(2, 'test', 7, 9, knobs)
    changed = (a['image'] != b['image']).any(axis=2)
    assert not (changed & ~(a['object_mask'] | a['ignore_mask'])).any()


def hue_degrees(rgb):
    """Hue of an RGB colour (0-255 floats) in degrees."""
    hsv = cv2.cvtColor(np.uint8([[np.clip(rgb, 0, 255)]]), cv2.COLOR_RGB2HSV)
    return 2.0 * float(hsv[0, 0, 0])  # OpenCV's 8-bit hue is degrees / 2


def circular_distance(a, b):
    return abs((a - b + 180.0) % 360.0 - 180.0)


def test_body_families_put_class_evidence_in_the_body():
    """With body_families=2, class 2p+j is part pattern p with a body from
    colour family j: the label then changes the part AND the body (never
    the background or the clutter), and the body hue falls in the family's
    range; class names say which family."""
    knobs = SyntheticKnobs(body_families=2)
    assert class_names(4, body_families=2) == [
        'red_ring_yellow_core_body0', 'red_ring_yellow_core_body1',
        'yellow_ring_green_core_body0', 'yellow_ring_green_core_body1']
    warm, cool = (body_family_hue_range(j, 2) for j in range(2))
    assert warm == (30.0, 67.5) and cool == (210.0, 67.5)
    hits = 0
    for index in range(6):
        a = render_sample(3, 'val', index, 0, knobs)   # pattern 0, family 0
        b = render_sample(3, 'val', index, 1, knobs)   # pattern 0, family 1
        assert (a['object_mask'] == b['object_mask']).all()
        changed = (a['image'] != b['image']).any(axis=2)
        object_zone = cv2.dilate(a['object_mask'].astype(np.uint8),
                                 np.ones((3, 3), np.uint8)).astype(bool)
        assert not (changed & ~object_zone).any()
        # same part pattern: the part's pixels agree up to the body's
        # anti-aliased rim
        core = cv2.erode(a['part_mask'].astype(np.uint8),
                         np.ones((5, 5), np.uint8)).astype(bool)
        assert not changed[core].any()
        body = a['object_mask'] & ~cv2.dilate(
            a['part_mask'].astype(np.uint8),
            np.ones((5, 5), np.uint8)).astype(bool)
        for sample, (centre, half_width) in ((a, warm), (b, cool)):
            # the median colour is robust to the texture; the mean hue
            # of a muted, textured body stays near its family's range
            colour = np.median(sample['image'][body].astype(np.float32), 0)
            hits += circular_distance(hue_degrees(colour),
                                      centre) <= half_width + 15
    assert hits >= 10  # of 12 bodies (texture and grain shift a few)
    with pytest.raises(ValueError, match='body_families'):
        SyntheticKnobs(body_families=0)
    with pytest.raises(ValueError, match='num_classes must be in'):
        class_names(61, body_families=2)


def test_class_definitions_are_distinct():
    names = class_names()
    assert len(names) == len(set(names)) == MAX_CLASSES == 30
    assert names[0] == 'red_ring_yellow_core'
    assert all(name.split('_')[0] != name.split('_')[2] for name in names)


@pytest.mark.parametrize('kwargs, error', [
    (dict(num_classes=MAX_CLASSES + 1), ValueError),
    (dict(num_classes=0), ValueError),
    (dict(per_class=dict(train=0)), ValueError),
    (dict(per_class=dict(train=-3)), ValueError),
    (dict(per_class=dict(holdout=2)), ValueError),
    (dict(seed=-1), ValueError),
    (dict(object_area_range=(0.5, 0.2)), ValueError),
    (dict(image_size_range=(160, 256.5)), ValueError),
    (dict(decoy_prob=1.5), ValueError),
    (dict(part_blend=-0.5), ValueError),
    (dict(jpeg_quality=0), ValueError),
    (dict(no_such_knob=1), TypeError),
])
def test_bad_arguments_raise_clear_errors(tmp_path, kwargs, error):
    with pytest.raises(error):
        generate_parts_hard(str(tmp_path), **kwargs)
    assert not os.listdir(tmp_path)  # nothing written before the check


def test_existing_output_needs_overwrite(tmp_path):
    root = str(tmp_path)
    small = dict(train=1, val=1, test=1)
    generate_parts_hard(root, num_classes=2, per_class=small)
    with pytest.raises(FileExistsError, match='overwrite'):
        generate_parts_hard(root, num_classes=2, per_class=small)
    summary = generate_parts_hard(root, seed=1, num_classes=1,
                                         per_class=small, overwrite=True)
    assert summary['counts'] == small
    # no stale files of the previous generation survive
    assert sorted(os.listdir(osp.join(root, 'images', 'train'))) == ['00']


def test_preview_and_cli(tmp_path, small_dataset):
    root = small_dataset[0]
    preview = make_preview(root, str(tmp_path / 'mosaic.png'), split='test',
                           num_images=5, columns=3, tile=100)
    mosaic = cv2.imread(preview)
    assert mosaic.shape == (200, 300, 3)

    # the CLI from the repository root, package not installed
    out = str(tmp_path / 'cli')
    result = subprocess.run(
        [sys.executable, CLI, out, '--preset', 'parts_hard', '--seed', '2',
         '--num-classes', '2',
         '--train-per-class', '1', '--val-per-class', '1',
         '--test-per-class', '1', '--preview', str(tmp_path / 'p.png'),
         '--option', 'decoy_prob=0', 'object_area_range=(0.1,0.3)'],
        cwd=REPO, capture_output=True, text=True,
        env=dict(os.environ, PYTHONPATH=''))
    assert result.returncode == 0, result.stderr
    assert 'object_area_fraction' in result.stdout
    assert osp.isfile(str(tmp_path / 'p.png'))
    readme = open(osp.join(out, 'README.txt')).read()
    assert '--option decoy_prob=0' in readme
    assert 'object_area_range=(0.1,0.3)' in readme
    assert read_lines(osp.join(out, 'metadata', 'val', 'image_ids.txt')) == \
        ['val/00/val_00000.jpg', 'val/01/val_00001.jpg']


def load_cli():
    spec = importlib.util.spec_from_file_location('make_synthetic_cli', CLI)
    cli = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(cli)
    return cli


def test_repeated_option_flags_all_count():
    """``--option a=1 --option b=2`` sets both knobs (argparse's default
    ``store`` would keep only the last flag)."""
    cli = load_cli()
    args = cli.parse_args(['out', '--option', 'decoy_prob=0',
                           '--option', 'border_prob=0.5', 'hue_jitter_deg=2'])
    assert dict(args.option) == {'decoy_prob': 0, 'border_prob': 0.5,
                                 'hue_jitter_deg': 2}


# --------------------------------------------------------------------------
# parts_hard pinned to the single-module generator (version 1.0)
# --------------------------------------------------------------------------
def sample_digest(sample):
    """sha256 of the raw RGB bytes and the three masks of a rendered
    sample, in that order."""
    digest = hashlib.sha256()
    for key in ('image', 'object_mask', 'part_mask', 'ignore_mask'):
        digest.update(np.ascontiguousarray(sample[key]).tobytes())
    return digest.hexdigest()


# (seed, split, index, label, knobs) -> (image shape, box, sample_digest),
# computed with fcam_mm/datasets/synthetic.py as of commit 38e4203, before
# it became a package. Another numpy/OpenCV build may legitimately change
# them (docs/synthetic_dataset.md, "Determinism"); the same build must not.
PINNED_PARTS_HARD = [
    ((0, 'train', 0, 0, {}), (214, 161, 3), (12, 47, 153, 211),
     '7c93acea1c40348b767277137db24c32c02b2b7286215d85e46b608c864b017e'),
    ((7, 'val', 13, 4, {}), (232, 185, 3), (27, 141, 146, 231),
     '63bf68e7fb6fef52db31d5155d888f0e4a75ee58f7a2b458ba9cf083ebd4bfb5'),
    ((2024, 'test', 101, 29, {}), (166, 212, 3), (108, 11, 184, 56),
     'a00ba1701a71959b4c0b9e169a533f100e52e7772e47783e7d734d4fe9896902'),
    ((3, 'val', 5, 7, dict(body_families=2)), (177, 192, 3),
     (93, 37, 191, 114),
     '49c07c062da0e3414102f40ddb6661eb28341c4adcaced45764fc0be540f1251'),
    ((3, 'val', 5, 2, dict(part_blend=1.5)), (177, 192, 3),
     (93, 37, 191, 114),
     'bfe871e844f0abe413013b7d4ab6d0b965f4a183c25bf99ea96e04dde0f5ea4d'),
]


@pytest.mark.parametrize('case, shape, box, digest', PINNED_PARTS_HARD)
def test_parts_hard_pixels_are_pinned(case, shape, box, digest):
    """render_sample (package level) and render_preset_sample('parts_hard')
    give exactly the pixels and masks of the pre-package generator."""
    seed, split, index, label, knobs = case
    for sample in (render_sample(seed, split, index, label,
                                 SyntheticKnobs(**knobs)),
                   render_preset_sample('parts_hard', seed, split, index,
                                        label, knobs)):
        assert sample['image'].shape == shape
        assert sample['image'].dtype == np.uint8
        assert sample['box'] == box and sample['label'] == label
        assert sample_digest(sample) == digest


def test_parts_hard_files_are_pinned(tmp_path):
    """The written tree (JPEGs, PNG masks and part masks, metadata) of a
    small parts_hard dataset is byte for byte the pre-package one;
    README.txt records the preset, the unchanged version and a command
    line with ``--preset``."""
    root = str(tmp_path)
    generate_synthetic_dataset(root, seed=3, num_classes=2,
                               per_class=dict(train=1, val=1, test=1),
                               preset='parts_hard', save_part_masks=True)
    hashes = tree_hashes(root)
    readme = read_lines(osp.join(root, 'README.txt'))
    del hashes['README.txt']
    listing = ''.join(f'{path} {digest}\n'
                      for path, digest in sorted(hashes.items()))
    assert len(hashes) == 40  # 6 images x 4 files + 5 x 3 metadata + 1
    assert hashlib.sha256(listing.encode()).hexdigest() == \
        '065dd7d2478fe905b1cbb5adee2842cbf4630da3efcb9b48c1fba05c6609fe1a'
    assert readme[:3] == ['fcam_mm synthetic WSOL dataset',
                          'generator: fcam_mm.datasets.synthetic version 1.0',
                          'preset: parts_hard']
    command = readme[readme.index('command (OUT = this folder):') + 1]
    assert command == (
        '  python tools/dataset_converters/make_synthetic.py OUT '
        '--preset parts_hard --seed 3 --num-classes 2 --train-per-class 1 '
        '--val-per-class 1 --test-per-class 1 --option save_part_masks=True')


def test_cli_preset_parts_hard_and_its_readme_command_reproduce(tmp_path):
    """``--preset parts_hard`` on the command line gives the bytes of the
    Python call; the command README.txt records, run again, gives the same
    tree (README.txt included)."""
    first, second, in_process = (str(tmp_path / n) for n in 'abc')
    result = subprocess.run(
        [sys.executable, CLI, first, '--preset', 'parts_hard', '--seed',
         '4', '--num-classes', '3', '--train-per-class', '1',
         '--val-per-class', '1', '--test-per-class', '1', '--option',
         'part_blend=1.0', 'jpeg_quality=90'],
        cwd=REPO, capture_output=True, text=True,
        env=dict(os.environ, PYTHONPATH=''))
    assert result.returncode == 0, result.stderr
    assert 'preset parts_hard version 1.0' in result.stdout
    readme = read_lines(osp.join(first, 'README.txt'))
    assert 'preset: parts_hard' in readme
    command = readme[readme.index('command (OUT = this folder):') + 1]
    argv = shlex.split(command)
    assert argv[:2] == ['python', 'tools/dataset_converters/make_synthetic.py']
    assert argv[3:5] == ['--preset', 'parts_hard']
    argv = [sys.executable, CLI] + [second if a == 'OUT' else a
                                    for a in argv[2:]]
    rerun = subprocess.run(argv, cwd=REPO, capture_output=True, text=True,
                           env=dict(os.environ, PYTHONPATH=''))
    assert rerun.returncode == 0, rerun.stderr
    assert tree_hashes(second) == tree_hashes(first)

    generate_synthetic_dataset(in_process, seed=4, num_classes=3,
                               per_class=dict(train=1, val=1, test=1),
                               preset='parts_hard', part_blend=1.0,
                               jpeg_quality=90)
    assert tree_hashes(in_process) == tree_hashes(first)


# --------------------------------------------------------------------------
# the preset registry, with a second preset written here
# --------------------------------------------------------------------------
@dataclass(frozen=True)
class DiscKnobs(KnobsBase):
    """A toy preset's knobs: square images of ``size`` pixels, one centred
    disc whose radius is drawn in ``radius_range``."""
    size: int = 48
    radius_range: Tuple[int, int] = (6, 12)

    def __post_init__(self):
        self._tuples_from_lists()
        self._check_int('size', 16, 512)
        self._check_range('radius_range', int, 2, 20)


DISC_COLOURS = (('red', (255, 0, 0)), ('green', (0, 255, 0)),
                ('blue', (0, 0, 255)))


def render_disc(seed, split, index, label, knobs):
    """A flat grey image with a centred disc of the class colour."""
    radius = int(image_rng(seed, split, index).integers(
        knobs.radius_range[0], knobs.radius_range[1] + 1))
    centre = knobs.size // 2
    ys, xs = np.mgrid[:knobs.size, :knobs.size]
    disc = (xs - centre)**2 + (ys - centre)**2 <= radius**2
    image = np.full((knobs.size, knobs.size, 3), 128, np.uint8)
    image[disc] = DISC_COLOURS[label][1]
    return dict(image=image, object_mask=disc, part_mask=disc,
                ignore_mask=np.zeros_like(disc),
                box=(centre - radius, centre - radius, centre + radius,
                     centre + radius),
                label=label,
                stats=dict(radius=radius, large=radius >= 10,
                           shape='disc'))


def disc_class_names(num_classes, knobs):
    if not 1 <= num_classes <= len(DISC_COLOURS):
        raise ValueError(f'num_classes must be in [1, 3], got {num_classes}')
    return [name for name, _ in DISC_COLOURS[:num_classes]]


@pytest.fixture
def disc_preset(monkeypatch):
    """The toy preset, registered in a copy of the registry that the test
    run restores afterwards."""
    monkeypatch.setattr(presets_module, 'PRESETS',
                        dict(presets_module.PRESETS))
    return register_preset(Preset(
        name='toy_discs', version='0.1', knobs=DiscKnobs,
        render_sample=render_disc, class_names=disc_class_names,
        max_classes=lambda knobs: len(DISC_COLOURS),
        description='one centred disc, the class is its colour'))


def test_unknown_preset_names_the_registered_ones(tmp_path, disc_preset):
    for call in (lambda: generate_synthetic_dataset(str(tmp_path),
                                                    preset='no_such_preset'),
                 lambda: render_preset_sample('no_such_preset', 0, 'val', 0, 0)):
        with pytest.raises(ValueError) as info:
            call()
        message = str(info.value)
        assert "unknown preset 'no_such_preset'" in message
        assert "'parts_hard'" in message and "'toy_discs'" in message
    assert not os.listdir(tmp_path)
    with pytest.raises(ValueError, match='already registered'):
        register_preset(disc_preset)


def test_a_knob_of_another_preset_is_refused(tmp_path, disc_preset):
    with pytest.raises(TypeError) as info:
        generate_synthetic_dataset(str(tmp_path), preset='toy_discs',
                                   body_families=2)
    message = str(info.value)
    assert "unknown knob(s) ['body_families'] for preset 'toy_discs'" in \
        message
    assert "its knobs are ['size', 'radius_range']" in message
    with pytest.raises(TypeError) as info:
        generate_parts_hard(str(tmp_path), radius_range=(3, 5))
    message = str(info.value)
    assert "unknown knob(s) ['radius_range'] for preset 'parts_hard'" in \
        message
    assert "'part_blend'" in message and "'body_families'" in message
    assert not os.listdir(tmp_path)
    # a knobs object of one preset is not silently used by another
    with pytest.raises(TypeError, match='DiscKnobs'):
        render_preset_sample('toy_discs', 0, 'val', 0, 0, SyntheticKnobs())
    with pytest.raises(TypeError, match="'parts_hard'"):
        render_preset_sample('parts_hard', 0, 'val', 0, 0, dict(size=64))


def test_a_new_preset_goes_through_writer_summary_cli_and_preview(
        tmp_path, disc_preset, capsys):
    """The writer, the summary, the CLI and the preview know nothing of
    parts_hard: the toy preset's discs come back from the files, its
    statistics are summarised, its name and version are in README.txt."""
    assert preset_names()[0] == 'parts_hard' and preset_names()[-1] == 'toy_discs'
    out = str(tmp_path / 'discs')
    cli = load_cli()
    summary = cli.main([out, '--preset', 'toy_discs', '--seed', '9',
                        '--num-classes', '3', '--train-per-class', '4',
                        '--val-per-class', '2', '--test-per-class', '2',
                        '--option', 'radius_range=(5,11)',
                        'jpeg_quality=100', '--preview',
                        str(tmp_path / 'p.png')])
    assert summary['preset'] == 'toy_discs' and summary['version'] == '0.1'
    assert read_lines(osp.join(out, 'metadata', 'class_names.txt')) == \
        ['red', 'green', 'blue']
    radii = []
    for split in SPLITS:
        folder = osp.join(out, 'metadata', split)
        sizes = read_image_sizes(osp.join(folder, 'image_sizes.txt'))
        boxes = read_boxes(osp.join(folder, 'localization.txt'), sizes)
        labels = read_class_labels(osp.join(folder, 'class_labels.txt'), 3)
        for image_id, ((x0, y0, x1, y1), ) in boxes.items():
            assert sizes[image_id] == (48, 48)
            assert x1 - x0 == y1 - y0 and x0 + x1 == 48  # centred square
            radii.append((x1 - x0) // 2)
            image = cv2.imread(osp.join(out, 'images', image_id))
            rgb = image[24, 24, ::-1].astype(int)
            expected = DISC_COLOURS[labels[image_id]][1]
            assert np.abs(rgb - expected).max() <= 8, image_id
    assert len(radii) == 24 and 5 <= min(radii) and max(radii) <= 11
    # the generic summary: every numeric statistic, none of the others
    assert set(summary['stats']) == {'radius', 'large'}
    assert summary['stats']['radius']['min'] == min(radii)
    assert summary['stats']['radius']['max'] == max(radii)
    assert summary['stats']['radius']['mean'] == round(np.mean(radii), 4)
    assert summary['stats']['large']['mean'] == \
        round(np.mean([r >= 10 for r in radii]), 4)
    assert 'object_area_fraction' not in summary  # parts_hard's own keys
    printed = capsys.readouterr().out
    assert 'preset toy_discs version 0.1' in printed
    large_share = 100 * np.mean([r >= 10 for r in radii])
    assert f'large: {large_share:.1f}% of images' in printed
    assert 'radius: min' in printed

    readme = read_lines(osp.join(out, 'README.txt'))
    assert readme[1:3] == ['generator: fcam_mm.datasets.synthetic '
                           'version 0.1', 'preset: toy_discs']
    assert '  size = 48' in readme and '  radius_range = (5,11)' in readme
    command = readme[readme.index('command (OUT = this folder):') + 1]
    assert '--preset toy_discs --seed 9 --num-classes 3' in command
    assert command.endswith('--option radius_range=(5,11) '
                            '--option jpeg_quality=100')
    mosaic = cv2.imread(str(tmp_path / 'p.png'))
    assert mosaic.shape == (200, 6 * 200, 3)  # the 6 val images, one row
