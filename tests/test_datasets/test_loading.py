"""LoadWSOLAnnotations: mask PNG decoding and COCO mask checks."""
import json
import os.path as osp

import cv2
import numpy as np
import pytest

from fcam_mm.datasets import CocoWSOLDataset, MetadataError
from fcam_mm.datasets.transforms import LoadWSOLAnnotations
from .test_wsol_dataset import build, expected_mask
from .wsol_tree import IMAGES, make_box_and_mask_tree, write_image


def mask_path(root, name):
    return osp.join(root, 'masks', 'a', name)


def img0_boxes():
    return IMAGES['a/img0.png'][3]


def test_16bit_masks_holding_0_and_1(tmp_path):
    # img0 is 40x30 with one box (2, 3, 10, 12) and an ignore row y = 3,
    # x = 2..11. Rewrite both PNGs as 16-bit 0/1: before masks were read
    # unchanged, grayscale conversion (value / 256) made them all zero.
    make_box_and_mask_tree(str(tmp_path))
    for name, box in (('img0_m0.png', (2, 3, 10, 12)),
                      ('img0_ignore.png', (2, 3, 11, 3))):
        mask = np.zeros((30, 40), np.uint16)
        x0, y0, x1, y1 = box
        mask[y0:y1 + 1, x0:x1 + 1] = 1
        assert cv2.imwrite(mask_path(tmp_path, name), mask)
        assert cv2.imread(mask_path(tmp_path, name),
                          cv2.IMREAD_UNCHANGED).dtype == np.uint16
    dataset = build(tmp_path, mask_file='localization_mask.txt')
    gt = dataset[0]['data_samples'].gt_mask
    np.testing.assert_array_equal(gt, expected_mask(40, 30, img0_boxes()))
    # 10 rows x 9 columns of object, one ignore pixel at (x 11, y 3)
    assert (gt == 1).sum() == 90 and (gt == 255).sum() == 1
    assert gt[3, 11] == 255


def test_16bit_mask_with_full_range_values(tmp_path):
    make_box_and_mask_tree(str(tmp_path))
    mask = np.zeros((30, 40), np.uint16)
    mask[3:13, 2:11] = 65535
    assert cv2.imwrite(mask_path(tmp_path, 'img0_m0.png'), mask)
    dataset = build(tmp_path, mask_file='localization_mask.txt')
    np.testing.assert_array_equal(dataset[0]['data_samples'].gt_mask,
                                  expected_mask(40, 30, img0_boxes()))


@pytest.mark.parametrize('channels', [3, 4])
def test_colour_mask_is_an_error_naming_the_path(tmp_path, channels):
    make_box_and_mask_tree(str(tmp_path))
    mask = np.zeros((30, 40, channels), np.uint8)
    mask[3:13, 2:11, 0] = 255   # blue only: a colour, not a grey
    if channels == 4:
        mask[..., 3] = 255
    assert cv2.imwrite(mask_path(tmp_path, 'img0_m0.png'), mask)
    dataset = build(tmp_path, mask_file='localization_mask.txt')
    with pytest.raises(ValueError, match=rf'mask .*a/img0_m0\.png has '
                       rf'{channels} channels; a mask must be a '
                       r'single-channel'):
        dataset[0]


@pytest.mark.parametrize('channels', [3, 4])
def test_grey_mask_stored_as_colour_is_read_as_grey(tmp_path, channels):
    """Equal colour channels (and an opaque alpha): e.g. a black-and-white
    palette PNG, which OpenCV expands to colour."""
    make_box_and_mask_tree(str(tmp_path))
    mask = np.zeros((30, 40, channels), np.uint8)
    mask[3:13, 2:11, :3] = 255
    if channels == 4:
        mask[..., 3] = 255
    assert cv2.imwrite(mask_path(tmp_path, 'img0_m0.png'), mask)
    dataset = build(tmp_path, mask_file='localization_mask.txt')
    np.testing.assert_array_equal(dataset[0]['data_samples'].gt_mask,
                                  expected_mask(40, 30, img0_boxes()))
    # a transparent alpha is not "opaque grey": refused
    if channels == 4:
        mask[0, 0, 3] = 0
        assert cv2.imwrite(mask_path(tmp_path, 'img0_m0.png'), mask)
        with pytest.raises(ValueError, match='4 channels'):
            build(tmp_path, mask_file='localization_mask.txt')[0]


def test_undecodable_mask_names_the_path(tmp_path):
    make_box_and_mask_tree(str(tmp_path))
    with open(mask_path(tmp_path, 'img1_ignore.png'), 'wb') as f:
        f.write(b'not a png')
    dataset = build(tmp_path, mask_file='localization_mask.txt')
    with pytest.raises(ValueError, match=r'cannot decode mask .*a/'
                       r'img1_ignore\.png'):
        dataset[1]


# -- COCO masks ---------------------------------------------------------------
# 4 rows x 6 columns, ones at rows 1-2, columns 2-4. Uncompressed RLE runs
# go down the columns: columns 0-1 and row 0 of column 2 are 9 zeros, then
# per column 2-4 two ones and (except after the last) two zeros, then row 3
# of column 4 and all of column 5 are 5 zeros: 9+2+2+2+2+2+5 = 24 pixels.
RLE_4x6 = dict(size=[4, 6], counts=[9, 2, 2, 2, 2, 2, 5])


def coco_results(segms, crowd=(), ann_ids=None, crowd_ids=None):
    results = dict(img=np.zeros((4, 6, 3), np.uint8), img_path='p.png',
                   metadata_shape=(4, 6), coco_segms=list(segms),
                   coco_crowd_segms=list(crowd))
    if ann_ids is not None:
        results['coco_ann_ids'] = ann_ids
    if crowd_ids is not None:
        results['coco_crowd_ann_ids'] = crowd_ids
    return results


def test_coco_rle_instance_and_crowd():
    # crowd: ones at rows 0-1, columns 0-2 -> runs 0 zeros, then per column
    # 0-2 two ones and two zeros, the last zeros joined with columns 3-5:
    # 0+2+2+2+2+2+(2+12) = 24. Object pixels win over crowd (ignore) ones.
    crowd = dict(size=[4, 6], counts=[0, 2, 2, 2, 2, 2, 14])
    results = LoadWSOLAnnotations()(coco_results(
        [RLE_4x6], [crowd], ann_ids=[5], crowd_ids=[6]))
    expected = np.array([[255, 255, 255, 0, 0, 0],
                         [255, 255, 1, 1, 1, 0],
                         [0, 0, 1, 1, 1, 0],
                         [0, 0, 0, 0, 0, 0]], np.uint8)
    np.testing.assert_array_equal(results['ori_gt_mask'], expected)


@pytest.mark.parametrize('size,crowd', [([5, 6], False), ([4, 7], True)])
def test_coco_rle_of_another_size_names_image_and_annotation(size, crowd):
    # counts summing to size[0] * size[1], so the RLE itself is valid
    wrong = dict(size=size, counts=[size[0] * size[1]])
    h, w = size
    if crowd:
        results = coco_results([RLE_4x6], [wrong], ann_ids=[5],
                               crowd_ids=[17])
    else:
        results = coco_results([wrong], ann_ids=[17], crowd_ids=[])
    with pytest.raises(ValueError, match=rf'p\.png: annotation 17 decodes '
                       rf'to a {w}x{h} mask, but the image is 6x4'):
        LoadWSOLAnnotations()(results)


def test_coco_rle_size_without_annotation_ids():
    results = coco_results([RLE_4x6, dict(size=[5, 6], counts=[30])])
    with pytest.raises(ValueError, match=r'p\.png: coco_segms\[1\] decodes '
                       r'to a 6x5 mask'):
        LoadWSOLAnnotations()(results)


def write_coco(tmp_path, segmentation, iscrowd=0):
    write_image(osp.join(tmp_path, 'p.png'), 4, 6)
    coco = dict(
        images=[dict(id=1, file_name='p.png', width=6, height=4)],
        categories=[dict(id=1, name='cat')],
        annotations=[
            dict(id=8, image_id=1, category_id=1, bbox=[2, 1, 3, 2], area=6,
                 iscrowd=0, segmentation=RLE_4x6),
            dict(id=9, image_id=1, category_id=1, bbox=[0, 0, 3, 2], area=6,
                 iscrowd=iscrowd, segmentation=segmentation)
        ])
    ann_file = osp.join(tmp_path, 'instances.json')
    with open(ann_file, 'w') as f:
        json.dump(coco, f)
    return ann_file


def test_coco_dataset_rejects_rle_of_another_size_at_build(tmp_path):
    ann_file = write_coco(tmp_path, dict(size=[6, 4], counts=[24]),
                          iscrowd=1)
    with pytest.raises(MetadataError, match=r'instances\.json: image id 1 '
                       r'\(p\.png\): annotation 9 has an RLE mask of 4x6 '
                       r'\(size \[6, 4\]\) but the image is 6x4'):
        CocoWSOLDataset(ann_file=ann_file)
    # without masks the RLE is never decoded, so it is not checked
    assert len(CocoWSOLDataset(ann_file=ann_file, with_mask=False)) == 1


def test_coco_dataset_passes_annotation_ids(tmp_path):
    crowd = dict(size=[4, 6], counts=[0, 2, 2, 2, 2, 2, 14])
    ann_file = write_coco(tmp_path, crowd, iscrowd=1)
    dataset = CocoWSOLDataset(
        ann_file=ann_file, data_prefix=dict(img_path=str(tmp_path)),
        pipeline=[dict(type='LoadImageFromFile'),
                  dict(type='LoadWSOLAnnotations')])
    results = dataset[0]
    assert results['coco_ann_ids'] == [8]
    assert results['coco_crowd_ann_ids'] == [9]
    # the same map as test_coco_rle_instance_and_crowd, now via the dataset
    assert (results['ori_gt_mask'] == 1).sum() == 6
    assert (results['ori_gt_mask'] == 255).sum() == 5
