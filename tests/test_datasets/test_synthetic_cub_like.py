"""The cub_like preset: determinism, label independence of everything but
the object, annotations that agree with the pixels, and the properties it
is designed to have (CUB-like boxes, an outline stronger than the edges
inside the object, a head that is a small part of it)."""
import os.path as osp

import cv2
import numpy as np
import pytest

from fcam_mm.datasets.metadata import (read_boxes, read_class_labels,
                                       read_image_sizes)
from fcam_mm.datasets.synthetic import generate_synthetic_dataset
from fcam_mm.datasets.synthetic.cub_like import (FIELD_MARKS,
                                                 PLUMAGE_GROUPS,
                                                 PLUMAGE_PATTERNS,
                                                 CubLikeKnobs, class_names,
                                                 render_sample)
from fcam_mm.datasets.synthetic.presets import render_preset_sample


@pytest.fixture(scope='module')
def samples():
    return [render_sample(4, 'val', i, i % 10) for i in range(40)]


def test_same_arguments_same_pixels():
    a = render_preset_sample('cub_like', 3, 'train', 5, 2)
    b = render_preset_sample('cub_like', 3, 'train', 5, 2)
    c = render_preset_sample('cub_like', 4, 'train', 5, 2)
    assert (a['image'] == b['image']).all() and a['box'] == b['box']
    assert a['image'].shape != c['image'].shape or \
        (a['image'] != c['image']).any()


@pytest.mark.parametrize('index, other', [(7, 3), (11, 5), (2, 1)])
def test_label_changes_only_object_pixels(index, other):
    """Plumage pattern and field-mark colour are the class; scene, pose,
    size, plumage colour and every random draw are not: another label changes only pixels
    the object covers (its anti-aliased rim included)."""
    a = render_sample(2, 'test', index, 0)
    b = render_sample(2, 'test', index, other)
    for key in ('object_mask', 'part_mask', 'ignore_mask'):
        assert (a[key] == b[key]).all()
    assert a['box'] == b['box']
    changed = (a['image'] != b['image']).any(axis=2)
    rim = a['object_mask'] | a['ignore_mask']
    assert changed.any()
    assert not (changed & ~rim).any()
    # another plumage pattern changes much of the body
    assert changed[a['object_mask']].mean() > 0.2


def test_same_pattern_other_mark_colour_changes_the_mark_only():
    a = render_sample(6, 'train', 3, 0)  # pattern 0, mark colour 0
    b = render_sample(6, 'train', 3, CubLikeKnobs().num_plumages)  # colour 1
    changed = (a['image'] != b['image']).any(axis=2)
    assert changed.any()
    head = cv2.dilate(a['part_mask'].astype(np.uint8), np.ones((9, 9)))
    # field marks lie on and around the head (a bib or collar may reach
    # the neck), never on the rest of the body or the scene
    near_head = cv2.dilate(head, np.ones((15, 15))).astype(bool)
    assert not (changed & ~near_head).any()


def test_annotations_agree(samples):
    for r in samples:
        mask, ignore, part = r['object_mask'], r['ignore_mask'], \
            r['part_mask']
        ys, xs = np.nonzero(mask)
        assert r['box'] == (xs.min(), ys.min(), xs.max(), ys.max())
        assert not (ignore & mask).any()
        assert (part <= mask).all() and part.any()
        assert r['image'].dtype == np.uint8 and r['image'].shape[:2] == \
            mask.shape


def test_design_properties(samples):
    stats = [r['stats'] for r in samples]
    box = np.array([s['box_area_fraction'] for s in stats])
    # CUB-200-2011 test boxes: median 0.32 of the image, p05 0.11, p95 0.69
    assert 0.2 < np.median(box) < 0.45
    assert box.min() >= 0.03
    # figure/ground: the outline is on average the strongest edge
    assert np.median([s['edge_ratio'] for s in stats]) > 1.5
    # the head (with the beak) is a small part of the bird
    part = np.median([s['part_fraction_of_object'] for s in stats])
    assert 0.08 < part < 0.3
    # contrast is kept except for camouflaged birds
    normal = [s['outline_contrast'] for s in stats if not s['camouflaged']]
    assert np.median(normal) > CubLikeKnobs().min_contrast


def test_class_names_and_limits():
    names = class_names(12)
    groups = [name for name, _ in PLUMAGE_GROUPS]
    # label = plumage + 4 * mark colour
    assert names[1] == f'{groups[1]}_{FIELD_MARKS[0][0]}'
    assert names[4] == f'{groups[0]}_{FIELD_MARKS[1][0]}'
    assert names[11] == f'{groups[3]}_{FIELD_MARKS[2][0]}'
    assert len(set(names)) == 12
    with pytest.raises(ValueError, match='num_plumages=4'):
        class_names(25)
    patterns = class_names(8, CubLikeKnobs(plumage_evidence='pattern',
                                           num_plumages=2))
    assert patterns[:3] == [f'{PLUMAGE_PATTERNS[0]}_{FIELD_MARKS[0][0]}',
                            f'{PLUMAGE_PATTERNS[1]}_{FIELD_MARKS[0][0]}',
                            f'{PLUMAGE_PATTERNS[0]}_{FIELD_MARKS[1][0]}']
    with pytest.raises(ValueError, match='label'):
        render_sample(0, 'val', 0, 24)


@pytest.mark.parametrize('knobs, name', [
    (dict(num_plumages=5), 'num_plumages'),
    (dict(plumage_evidence='shape'), 'plumage_evidence'),
    (dict(head_scale=2.0), 'head_scale'),
    (dict(box_area_range=(0.5, 0.2)), 'box_area_range'),
    (dict(camouflage_prob=1.5), 'camouflage_prob'),
    (dict(centre_sigma_x=-0.1), 'centre_sigma_x'),
])
def test_bad_knobs_are_named(knobs, name):
    with pytest.raises(ValueError, match=name):
        CubLikeKnobs(**knobs)


def test_writer_and_readback(tmp_path):
    root = str(tmp_path / 'cub')
    # cub_like is the default preset
    summary = generate_synthetic_dataset(
        root, seed=1, num_classes=6, per_class=dict(train=1, val=1, test=1))
    assert summary['preset'] == 'cub_like'
    for key in ('box_area_fraction', 'edge_ratio', 'camouflaged_fraction'):
        assert key in summary
    labels = read_class_labels(osp.join(root, 'metadata', 'val',
                                        'class_labels.txt'))
    folder = osp.join(root, 'metadata', 'val')
    boxes = read_boxes(osp.join(folder, 'localization.txt'),
                       read_image_sizes(osp.join(folder, 'image_sizes.txt')))
    assert sorted(labels.values()) == list(range(6))
    for image_id, label in labels.items():
        r = render_sample(1, 'val', int(image_id[-9:-4]), label)
        assert tuple(boxes[image_id][0]) == r['box']
    with open(osp.join(root, 'README.txt')) as f:
        readme = f.read()
    assert 'preset: cub_like' in readme and '--preset cub_like' in readme
