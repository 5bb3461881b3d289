"""The FSL baseline's per-pixel training target: filled boxes, GT masks,
and the same resize / crop / flip as the image."""
import numpy as np
import pytest
import torch
from mmcv.transforms import Compose

from fcam_mm.datasets.transforms import (LoadWSOLAnnotations, PackWSOLInputs,
                                         RandomCrop)
from fcam_mm.datasets.transforms.loading import fill_boxes
from fcam_mm.utils import register_all_modules

register_all_modules()


def test_fill_boxes_two_boxes_inclusive_corners():
    # (x0, y0, x1, y1), inclusive: columns 1..3 x rows 0..1, and columns
    # 3..4 x rows 2..4 whose right edge (x1 = 9) runs past the 6-wide image.
    boxes = np.array([[1, 0, 3, 1], [3, 2, 9, 4]], np.float32)
    expected = np.array([
        [0, 1, 1, 1, 0, 0],
        [0, 1, 1, 1, 0, 0],
        [0, 0, 0, 1, 1, 1],
        [0, 0, 0, 1, 1, 1],
        [0, 0, 0, 1, 1, 1],
    ], np.uint8)
    np.testing.assert_array_equal(fill_boxes(boxes, 5, 6), expected)
    # a one-pixel box is one pixel; no box, no object
    single = fill_boxes(np.array([[2, 3, 2, 3]]), 5, 6)
    assert single.sum() == 1 and single[3, 2] == 1
    assert fill_boxes(np.zeros((0, 4)), 5, 6).sum() == 0


def load(seg_target, with_mask=True, **results):
    image = np.zeros((5, 6, 3), np.uint8)
    results = dict(dict(img=image, img_path='a.jpg', metadata_shape=(5, 6)),
                   **results)
    return LoadWSOLAnnotations(with_mask=with_mask,
                               seg_target=seg_target)(results)


def test_box_target_from_metadata_boxes():
    boxes = np.array([[1, 0, 3, 1], [3, 2, 9, 4]], np.float32)
    results = load('boxes', gt_bboxes=boxes)
    np.testing.assert_array_equal(results['gt_seg_map'],
                                  fill_boxes(boxes, 5, 6))
    # the evaluation GT stays as it was, in the original frame
    np.testing.assert_array_equal(results['ori_gt_bboxes'], boxes)


def test_mask_target_keeps_the_ignore_label(tmp_path):
    import cv2
    mask = np.zeros((5, 6), np.uint8)
    mask[1:3, 2:5] = 255
    ignore = np.zeros((5, 6), np.uint8)
    ignore[0, :] = 255
    ignore[1, 2] = 255  # an object pixel: stays object
    cv2.imwrite(str(tmp_path / 'm.png'), mask)
    cv2.imwrite(str(tmp_path / 'i.png'), ignore)
    results = load('mask', mask_paths=[str(tmp_path / 'm.png')],
                   ignore_path=str(tmp_path / 'i.png'))
    expected = np.zeros((5, 6), np.uint8)
    expected[1:3, 2:5] = 1
    expected[0, :] = 255
    np.testing.assert_array_equal(results['gt_seg_map'], expected)
    # a copy: transforming the target leaves the evaluation mask alone
    assert not np.shares_memory(results['gt_seg_map'],
                                results['ori_gt_mask'])


def test_missing_annotation_or_bad_option_is_an_error():
    with pytest.raises(ValueError, match="seg_target='boxes' but the sample "
                       'has no box'):
        load('boxes')
    with pytest.raises(ValueError, match="seg_target='mask' but the sample "
                       'has no mask'):
        load('mask')
    with pytest.raises(ValueError, match='seg_target must be None or one'):
        LoadWSOLAnnotations(seg_target='polygons')
    with pytest.raises(ValueError, match='needs with_mask=True'):
        LoadWSOLAnnotations(with_mask=False, seg_target='mask')


def object_image_and_mask():
    """A 6x8 image whose red channel is 200 exactly on an L-shaped object,
    with that object as the mask (1) and one ignore pixel (255)."""
    mask = np.zeros((6, 8), np.uint8)
    mask[1:5, 1:3] = 1  # vertical bar, columns 1-2
    mask[3:5, 3:7] = 1  # foot to the right, columns 3-6
    mask[0, 7] = 255
    image = np.zeros((6, 8, 3), np.uint8)
    image[..., 2] = np.where(mask == 1, 200, 0)  # BGR: red
    image[..., 0] = np.where(mask == 255, 90, 0)
    return image, mask


@pytest.mark.parametrize('flip_prob', [0.0, 1.0])
@pytest.mark.parametrize('seed', [0, 1, 2])
def test_target_follows_the_image_through_resize_crop_flip(flip_prob, seed):
    """Resize x2 (nearest), a random 8x10 crop and a horizontal flip move
    the target exactly as the image: the expected target is built
    independently (np.repeat, slicing, [:, ::-1]) and must also equal the
    object read back from the transformed image's pixels."""
    image, mask = object_image_and_mask()
    pipeline = Compose([
        dict(type='Resize', scale=(16, 12), keep_ratio=False,
             interpolation='nearest'),
        dict(type='RandomCrop', crop_size=(8, 10)),
        dict(type='RandomFlip', prob=flip_prob, direction='horizontal'),
        dict(type='PackWSOLInputs'),
    ])
    np.random.seed(seed)
    packed = pipeline(dict(img=image, gt_seg_map=mask.copy(),
                           img_path='x.png'))
    target = packed['data_samples'].gt_seg_map
    assert target.dtype == torch.uint8 and target.shape == (8, 10)

    x0, y0, x1, y1 = packed['data_samples'].crop_bbox
    expected = mask.repeat(2, axis=0).repeat(2, axis=1)[y0:y1, x0:x1]
    if flip_prob:
        expected = expected[:, ::-1]
    np.testing.assert_array_equal(target.numpy(), expected)
    # the same answer from the image the model sees (CHW, BGR)
    pixels = packed['inputs'].numpy()
    from_image = np.where(pixels[2] == 200, 1, np.where(pixels[0] == 90,
                                                         255, 0))
    np.testing.assert_array_equal(target.numpy(), from_image)


def test_crop_and_pack_check_the_target_frame():
    image = np.zeros((6, 8, 3), np.uint8)
    with pytest.raises(ValueError, match='gt_seg_map is 7x6 but the image '
                       'is 8x6'):
        RandomCrop(4)(dict(img=image, gt_seg_map=np.zeros((6, 7), np.uint8),
                           img_path='x'))
    with pytest.raises(ValueError, match='gt_seg_map is'):
        PackWSOLInputs()(dict(img=image,
                              gt_seg_map=np.zeros((5, 8), np.uint8)))
