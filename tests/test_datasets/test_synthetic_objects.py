"""The objects preset (the stand-in for ImageNet pre-training): whole
objects whose kind and colour are the class."""
import numpy as np
import pytest

from fcam_mm.datasets.synthetic.objects import (COLOURS, KINDS, class_names,
                                                render_sample)


def test_classes_are_kind_and_colour():
    names = class_names(36)
    assert len(set(names)) == 36
    assert names[0] == f'{COLOURS[0][0]}_{KINDS[0]}'
    assert names[7] == f'{COLOURS[1][0]}_{KINDS[1]}'
    with pytest.raises(ValueError, match='6 kinds x 6 colours'):
        class_names(37)


@pytest.mark.parametrize('label', range(0, 36, 5))
def test_annotations_agree_and_the_object_wears_its_colour(label):
    r = render_sample(2, 'train', label, label)
    mask = r['object_mask']
    ys, xs = np.nonzero(mask)
    assert r['box'] == (xs.min(), ys.min(), xs.max(), ys.max())
    assert not (r['ignore_mask'] & mask).any()
    assert not r['part_mask'].any()
    # the object's median hue lies in its colour's hue range
    import cv2
    hsv = cv2.cvtColor(r['image'], cv2.COLOR_RGB2HSV_FULL).astype(float)
    hue = np.median(hsv[..., 0][mask]) * 360 / 256
    low, high = COLOURS[label // len(KINDS)][1]
    hue = (hue - low) % 360 + low  # unwrap red around 0
    assert low - 15 <= hue <= high + 15


def test_deterministic():
    a = render_sample(7, 'val', 3, 10)
    b = render_sample(7, 'val', 3, 10)
    assert (a['image'] == b['image']).all()
