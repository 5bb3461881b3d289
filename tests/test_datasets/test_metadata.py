"""The wsolevaluation metadata readers on small hand-written files."""
import os.path as osp

import numpy as np
import pytest

from fcam_mm.datasets.metadata import (MetadataError, read_boxes,
                                       read_class_labels, read_image_ids,
                                       read_image_sizes, read_masks,
                                       require_same_images)
from .test_wsol_dataset import build, corrupt
from .wsol_tree import make_box_and_mask_tree, write_lines


def write_bytes(path, data):
    with open(path, 'wb') as f:
        f.write(data)
    return str(path)


# -- one line per image in the single-valued files --------------------------
@pytest.mark.parametrize('name,lines,message', [
    ('class_labels.txt', ['a.png,0', 'b.png,1', 'a.png,2'],
     r"class_labels\.txt:3: duplicate image 'a\.png' \(first on line 1\)"),
    # the same value twice is still a duplicate: the file is one per image
    ('class_labels.txt', ['a.png,0', 'a.png,0'],
     r"class_labels\.txt:2: duplicate image 'a\.png' \(first on line 1\)"),
    ('image_sizes.txt', ['a.png,4,5', '', 'b.png,6,7', 'b.png,7,6'],
     r"image_sizes\.txt:4: duplicate image 'b\.png' \(first on line 3\)"),
])
def test_duplicate_line_in_single_valued_file(tmp_path, name, lines,
                                              message):
    path = str(tmp_path / name)
    write_lines(path, lines)
    reader = (read_class_labels
              if name == 'class_labels.txt' else read_image_sizes)
    with pytest.raises(MetadataError, match=message):
        reader(path)


def test_duplicate_label_line_fails_the_dataset(tmp_path):
    # The tree's class_labels.txt: a/img0.png,0 / a/img1.png,2 /
    # b/img2.png,1. Before the fix the last line silently relabelled img0.
    make_box_and_mask_tree(str(tmp_path))
    path = osp.join(tmp_path, 'metadata', 'test', 'class_labels.txt')
    with open(path, 'a') as f:
        f.write('a/img0.png,1\n')
    with pytest.raises(MetadataError, match=r"class_labels\.txt:4: duplicate "
                       r"image 'a/img0\.png' \(first on line 1\)"):
        build(tmp_path)


# -- encoding ---------------------------------------------------------------
def test_utf8_bom_is_not_part_of_the_first_id(tmp_path):
    path = write_bytes(tmp_path / 'image_ids.txt',
                       b'\xef\xbb\xbfa.png\r\nb.png\r\n')
    assert read_image_ids(path) == ['a.png', 'b.png']
    path = write_bytes(tmp_path / 'class_labels.txt',
                       b'\xef\xbb\xbfa.png,3\n')
    assert read_class_labels(path) == {'a.png': 3}


def test_bom_files_build_a_dataset(tmp_path):
    make_box_and_mask_tree(str(tmp_path))
    folder = osp.join(tmp_path, 'metadata', 'test')
    for name in ('image_ids.txt', 'class_labels.txt', 'image_sizes.txt',
                 'localization.txt'):
        path = osp.join(folder, name)
        data = open(path, 'rb').read()
        write_bytes(path, b'\xef\xbb\xbf' + data)
    dataset = build(tmp_path)
    assert [dataset[i]['data_samples'].img_id for i in range(3)] == \
        ['a/img0.png', 'a/img1.png', 'b/img2.png']


def test_non_utf8_bytes_name_the_file_and_line(tmp_path):
    # 'caf\xe9' is Latin-1 for cafe with an accent: 0xe9 is byte 4 of line 2.
    path = write_bytes(tmp_path / 'image_ids.txt', b'a.png\ncaf\xe9.png\n')
    with pytest.raises(MetadataError, match=r'image_ids\.txt:2: not valid '
                       r'UTF-8 \(byte 0xe9 at byte 4 of the line\)'):
        read_image_ids(path)


def test_utf16_file_is_reported_not_misread(tmp_path):
    path = write_bytes(tmp_path / 'image_ids.txt',
                       'a.png\n'.encode('utf-16'))
    with pytest.raises(MetadataError, match=r'image_ids\.txt:1: not valid '
                       r'UTF-8 \(byte 0xff at byte 1 of the line\)'):
        read_image_ids(path)


def test_non_ascii_utf8_ids_are_kept(tmp_path):
    path = write_bytes(tmp_path / 'image_ids.txt',
                       'caf\u00e9.png\n'.encode('utf-8'))
    assert read_image_ids(path) == ['caf\u00e9.png']


# -- localization_mask.txt --------------------------------------------------
def test_read_masks_groups_instances_and_takes_first_line_ignore(tmp_path):
    path = str(tmp_path / 'localization_mask.txt')
    write_lines(path, ['a.png,a0.png,a_ignore.png', 'b.png,b0.png,',
                       'a.png,a1.png,', ' a.png , a2.png , '])
    masks = read_masks(path)
    assert masks == {'a.png': (['a0.png', 'a1.png', 'a2.png'],
                               'a_ignore.png'),
                     'b.png': (['b0.png'], None)}
    assert list(masks) == ['a.png', 'b.png']


@pytest.mark.parametrize('lines,message', [
    # the wsolevaluation files always have three fields
    (['a.png,a0.png,a_ignore.png', 'a.png,a1.png'],
     r'localization_mask\.txt:2: expected 3 comma-separated fields, got 2'),
    (['a.png,a0.png'], r'localization_mask\.txt:1: expected 3 .* got 2'),
    (['a.png,a0.png,ig.png,x'], r'localization_mask\.txt:1: expected 3 .* '
     'got 4'),
    (['a.png,,ig.png'], r"localization_mask\.txt:1: empty mask path for "
     r"'a\.png'"),
    # an ignore PNG on a later line is an error, even the same one again...
    (['a.png,a0.png,ig.png', 'b.png,b0.png,', 'a.png,a1.png,ig.png'],
     r"localization_mask\.txt:3: ignore mask 'ig\.png' on a later line of "
     r"'a\.png'; only its first line \(line 1\)"),
    # ...and when the first line had none
    (['a.png,a0.png,', 'a.png,a1.png,ig.png'],
     r"localization_mask\.txt:2: ignore mask 'ig\.png' on a later line .*"
     r"\(line 1\)"),
])
def test_malformed_mask_lines(tmp_path, lines, message):
    path = str(tmp_path / 'localization_mask.txt')
    write_lines(path, lines)
    with pytest.raises(MetadataError, match=message):
        read_masks(path)


def test_ignore_on_a_later_line_fails_the_dataset(tmp_path):
    # The tree's localization_mask.txt: line 1 img0 m0 (+ ignore), line 2
    # img1 m0 (+ ignore), line 3 img1 m1, line 4 img2 m0 (+ ignore).
    make_box_and_mask_tree(str(tmp_path))
    corrupt(tmp_path, 'localization_mask.txt', 3,
            'a/img1.png,a/img1_m1.png,a/img1_ignore.png')
    with pytest.raises(MetadataError, match=r"localization_mask\.txt:3: "
                       r"ignore mask .* of 'a/img1\.png'; only its first "
                       r"line \(line 2\)"):
        build(tmp_path, mask_file='localization_mask.txt')


def test_empty_ignore_on_first_line_means_no_ignore_region(tmp_path):
    make_box_and_mask_tree(str(tmp_path))
    corrupt(tmp_path, 'localization_mask.txt', 1, 'a/img0.png,a/img0_m0.png,')
    dataset = build(tmp_path, mask_file='localization_mask.txt')
    mask = dataset[0]['data_samples'].gt_mask
    # img0 is 40x30 with the one box (2, 3, 10, 12): 9 x 10 object pixels,
    # no ignore pixel (with its ignore PNG it had one).
    expected = np.zeros((30, 40), np.uint8)
    expected[3:13, 2:11] = 1
    np.testing.assert_array_equal(mask, expected)
    assert (mask == 1).sum() == 90


# -- cross-file checks name the line -----------------------------------------
@pytest.mark.parametrize('name,extra_line,lineno', [
    ('class_labels.txt', 'zzz.png,0', 4),
    ('localization_mask.txt', 'zzz.png,zzz_m0.png,', 5),
])
def test_image_missing_from_image_ids_names_its_line(tmp_path, name,
                                                     extra_line, lineno):
    make_box_and_mask_tree(str(tmp_path))
    path = osp.join(tmp_path, 'metadata', 'test', name)
    with open(path, 'a') as f:
        f.write(extra_line + '\n')
    with pytest.raises(MetadataError, match=rf"{name}:{lineno}: image "
                       r"'zzz\.png' is not in image_ids\.txt \(1 such "
                       r"image\(s\) in this file\)"):
        build(tmp_path, mask_file='localization_mask.txt')


def test_image_without_a_line_names_its_image_ids_line(tmp_path):
    make_box_and_mask_tree(str(tmp_path))
    path = osp.join(tmp_path, 'metadata', 'test', 'image_sizes.txt')
    write_lines(path, open(path).read().splitlines()[:2])  # drop b/img2.png
    with pytest.raises(MetadataError, match=r"image_sizes\.txt: no image "
                       r"size for 1 image\(s\) of image_ids\.txt, e\.g\. "
                       r"'b/img2\.png' \(listed on .*metadata/test/"
                       r"image_ids\.txt:3\)"):
        build(tmp_path)


def test_box_table_remembers_each_images_first_line(tmp_path):
    ids_path = str(tmp_path / 'image_ids.txt')
    write_lines(ids_path, ['a.png'])
    box_path = str(tmp_path / 'localization.txt')
    write_lines(box_path, ['a.png,0,0,1,1', 'b.png,0,0,2,2', 'b.png,1,1,2,2'])
    boxes = read_boxes(box_path, {'a.png': (4, 4), 'b.png': (4, 4)})
    assert boxes == {'a.png': [[0, 0, 1, 1]],
                     'b.png': [[0, 0, 2, 2], [1, 1, 2, 2]]}
    assert boxes.lines == {'a.png': 1, 'b.png': 2}
    with pytest.raises(MetadataError, match=r"localization\.txt:2: image "
                       r"'b\.png' is not in image_ids\.txt"):
        require_same_images(read_image_ids(ids_path), boxes, box_path, 'box')
