import json
import os.path as osp

import numpy as np
import pytest
import torch

from fcam_mm.datasets import (CocoWSOLDataset, MetadataError,
                              OpenImagesDataset, WSOLDataset)
from fcam_mm.registry import DATASETS
from .wsol_tree import IMAGES, make_box_and_mask_tree, write_image, \
    write_lines

PIPELINE = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadWSOLAnnotations'),
    dict(type='PackWSOLInputs'),
]


def build(root, **kwargs):
    cfg = dict(
        type='WSOLDataset',
        data_root=str(root),
        ann_file='metadata/test',
        data_prefix=dict(img_path='images', mask_path='masks'),
        classes='metadata/class_names.txt',
        pipeline=PIPELINE,
        test_mode=True)
    cfg.update(kwargs)
    return DATASETS.build(cfg)


def expected_mask(width, height, boxes):
    """The merged GT map worked out from the boxes drawn by wsol_tree: the
    instances OR-ed, the first box's ignore row (one pixel wider than the
    box) marked 255 where it is not object."""
    mask = np.zeros((height, width), np.uint8)
    for x0, y0, x1, y1 in boxes:
        mask[y0:y1 + 1, x0:x1 + 1] = 1
    x0, y0, x1, _ = boxes[0]
    for x in range(x0, min(x1 + 1, width - 1) + 1):
        if mask[y0, x] == 0:
            mask[y0, x] = 255
    return mask


def test_box_and_mask_flavours(tmp_path):
    make_box_and_mask_tree(str(tmp_path))
    dataset = build(tmp_path, mask_file='localization_mask.txt')
    assert len(dataset) == 3
    assert dataset.metainfo['classes'] == ('cat', 'dog', 'owl')
    for i, (image_id, (label, w, h, boxes)) in enumerate(IMAGES.items()):
        sample = dataset[i]['data_samples']
        assert sample.img_id == image_id
        assert sample.gt_label.tolist() == [label]
        assert sample.ori_shape == (h, w)
        assert sample.gt_bboxes.tolist() == [list(map(float, b))
                                             for b in boxes]
        np.testing.assert_array_equal(sample.gt_mask,
                                      expected_mask(w, h, boxes))
        assert dataset[i]['inputs'].shape == (3, h, w)
    # img0's ignore row sticks out one pixel right of its box: exactly one
    # ignore pixel; img1's ignore row lies inside its full-image box: none.
    assert (dataset[0]['data_samples'].gt_mask == 255).sum() == 1
    assert (dataset[1]['data_samples'].gt_mask == 255).sum() == 0


def test_mask_only_dataset(tmp_path):
    make_box_and_mask_tree(str(tmp_path))
    dataset = OpenImagesDataset(
        ann_file='metadata/test',
        mask_file='localization_mask.txt',
        data_root=str(tmp_path),
        data_prefix=dict(img_path='images', mask_path='masks'),
        classes='metadata/class_names.txt',
        pipeline=PIPELINE)
    sample = dataset[2]['data_samples']
    assert 'gt_bboxes' not in sample
    label, w, h, boxes = IMAGES['b/img2.png']
    np.testing.assert_array_equal(sample.gt_mask, expected_mask(w, h, boxes))


def test_training_split_needs_no_localization(tmp_path):
    make_box_and_mask_tree(str(tmp_path))
    dataset = build(
        tmp_path,
        box_file=None,
        test_mode=False,
        pipeline=[dict(type='LoadImageFromFile'),
                  dict(type='PackWSOLInputs')])
    sample = dataset[0]['data_samples']
    assert 'gt_bboxes' not in sample and 'gt_mask' not in sample
    assert sample.gt_label.tolist() == [0]


def test_classes_inferred_from_labels(tmp_path):
    make_box_and_mask_tree(str(tmp_path))
    dataset = build(tmp_path, classes=None)
    assert dataset.metainfo['classes'] == ('0', '1', '2')


def corrupt(tmp_path, name, lineno, new_line):
    path = osp.join(tmp_path, 'metadata', 'test', name)
    lines = open(path).read().splitlines()
    lines[lineno - 1] = new_line
    write_lines(path, lines)
    return path


@pytest.mark.parametrize('name,lineno,line,message', [
    ('class_labels.txt', 2, 'a/img1.png', r'class_labels\.txt:2: expected 2'),
    ('class_labels.txt', 3, 'b/img2.png,x', r'class_labels\.txt:3: .*int'),
    ('class_labels.txt', 1, 'a/img0.png,3', r'class_labels\.txt:1: class '
     r'label 3 .* out of range'),
    ('image_sizes.txt', 2, 'a/img1.png,32,0', r'image_sizes\.txt:2: .*'
     'positive'),
    ('localization.txt', 1, 'a/img0.png,2,3,41,12', r'localization\.txt:1: '
     r'box .* outside the 40x30 image'),
    ('localization.txt', 2, 'a/img1.png,9,0,3,31', r'localization\.txt:2: '
     'box .* x1 < x0'),
    ('localization.txt', 4, 'zzz.png,0,0,1,1', r'localization\.txt:4: box '
     "for 'zzz.png'"),
    ('image_ids.txt', 3, 'a/img0.png', r'image_ids\.txt:3: duplicate'),
])
def test_malformed_metadata_names_file_and_line(tmp_path, name, lineno, line,
                                                message):
    make_box_and_mask_tree(str(tmp_path))
    corrupt(tmp_path, name, lineno, line)
    with pytest.raises(MetadataError, match=message):
        build(tmp_path)


def test_missing_label_line_is_an_error(tmp_path):
    make_box_and_mask_tree(str(tmp_path))
    path = osp.join(tmp_path, 'metadata', 'test', 'class_labels.txt')
    write_lines(path, open(path).read().splitlines()[:2])
    with pytest.raises(MetadataError, match=r"no class label for 1 image.*"
                       r"'b/img2.png'"):
        build(tmp_path)


def test_missing_image_file(tmp_path):
    make_box_and_mask_tree(str(tmp_path))
    import os
    os.remove(osp.join(tmp_path, 'images', 'b', 'img2.png'))
    with pytest.raises(MetadataError, match=r'1 listed file.*img2\.png'):
        build(tmp_path)


def test_undecodable_image_names_the_file(tmp_path):
    make_box_and_mask_tree(str(tmp_path))
    with open(osp.join(tmp_path, 'images', 'a', 'img1.png'), 'wb') as f:
        f.write(b'not an image')
    dataset = build(tmp_path)
    with pytest.raises(Exception, match=r'img1\.png'):
        dataset[1]


def test_image_size_must_match_metadata(tmp_path):
    make_box_and_mask_tree(str(tmp_path))
    write_image(osp.join(tmp_path, 'images', 'a', 'img0.png'), 31, 40)
    dataset = build(tmp_path)
    with pytest.raises(ValueError, match=r'img0\.png: decoded image is 40x31 '
                       'but the metadata says 40x30'):
        dataset[0]


def test_unknown_dataset_type_lists_alternatives():
    with pytest.raises(KeyError, match=r'Did you mean CUBDataset.*'
                       r'Registered by fcam_mm: .*WSOLDataset'):
        DATASETS.build(dict(type='CUBDatset', ann_file='x'))


def square_polygon(x0, y0, x1, y1):
    return [[x0, y0, x1, y0, x1, y1, x0, y1]]


def test_coco_dataset(tmp_path):
    write_image(osp.join(tmp_path, 'images', 'p.png'), 20, 30)
    write_image(osp.join(tmp_path, 'images', 'q.png'), 10, 10)
    anns = [
        # Image 1: one cat (area 50) and two dogs (areas 40 + 30): the label
        # is dog, the category with the larger total area.
        dict(id=1, image_id=1, category_id=3, bbox=[0, 0, 10, 5], area=50,
             iscrowd=0, segmentation=square_polygon(0, 0, 10, 5)),
        dict(id=2, image_id=1, category_id=7, bbox=[2.5, 3.2, 8, 5],
             area=40, iscrowd=0,
             segmentation=square_polygon(2.5, 3.2, 10.5, 8.2)),
        dict(id=3, image_id=1, category_id=7, bbox=[20, 10, 6, 5], area=30,
             iscrowd=0, segmentation=square_polygon(20, 10, 26, 15)),
        dict(id=4, image_id=2, category_id=3, bbox=[1, 1, 3, 3], area=9,
             iscrowd=0, segmentation=square_polygon(1, 1, 4, 4)),
    ]
    coco = dict(
        images=[dict(id=1, file_name='p.png', width=30, height=20),
                dict(id=2, file_name='q.png', width=10, height=10)],
        categories=[dict(id=3, name='cat'), dict(id=7, name='dog')],
        annotations=anns)
    ann_file = osp.join(tmp_path, 'instances.json')
    with open(ann_file, 'w') as f:
        json.dump(coco, f)
    dataset = CocoWSOLDataset(
        ann_file=ann_file,
        data_prefix=dict(img_path=osp.join(tmp_path, 'images')),
        pipeline=PIPELINE)
    assert dataset.metainfo['classes'] == ('cat', 'dog')
    first = dataset[0]['data_samples']
    assert first.gt_label.tolist() == [1]
    # [2.5, 3.2, w 8, h 5] covers pixels x 2..10, y 3..8 (inclusive).
    assert first.gt_bboxes.tolist() == [[2, 3, 10, 8], [20, 10, 25, 14]]
    mask = first.gt_mask
    assert mask.shape == (20, 30) and set(np.unique(mask)) <= {0, 1}
    # Only dog pixels are object: the cat-only corner is background.
    assert mask[0, 0] == 0 and mask[12, 22] == 1 and mask[5, 6] == 1
    second = dataset[1]['data_samples']
    assert second.gt_label.tolist() == [0]


def test_coco_unannotated_image(tmp_path):
    write_image(osp.join(tmp_path, 'p.png'), 8, 8)
    coco = dict(images=[dict(id=1, file_name='p.png', width=8, height=8)],
                categories=[dict(id=1, name='cat')], annotations=[])
    ann_file = osp.join(tmp_path, 'instances.json')
    with open(ann_file, 'w') as f:
        json.dump(coco, f)
    with pytest.raises(MetadataError, match=r'image id 1 \(p\.png\) has no '
                       'annotation'):
        CocoWSOLDataset(ann_file=ann_file)


def test_random_crop_and_pack():
    from fcam_mm.datasets.transforms import PackWSOLInputs, RandomCrop
    img = np.arange(6 * 8 * 3, dtype=np.uint8).reshape(6, 8, 3)
    results = RandomCrop(crop_size=(4, 5))(dict(img=img, img_path='x'))
    x0, y0, x1, y1 = results['crop_bbox']
    np.testing.assert_array_equal(results['img'], img[y0:y1, x0:x1])
    assert (y1 - y0, x1 - x0) == (4, 5)
    packed = PackWSOLInputs()(dict(results, gt_label=2))
    assert packed['inputs'].shape == (3, 4, 5)
    assert torch.equal(packed['inputs'][0],
                       torch.from_numpy(img[y0:y1, x0:x1, 0]))
    with pytest.raises(ValueError, match='cannot crop 9x9'):
        RandomCrop(9)(dict(img=img, img_path='x'))
