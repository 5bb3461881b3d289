"""tools/misc/browse_dataset.py: the split summary and the file problems
(fcam_mm.datasets.dataset_summary), the pipeline views with their GT
(fcam_mm.visualization.dataset_browser), and the tool itself."""
import os
import os.path as osp

import cv2
import numpy as np
import pytest
from mmengine.config import Config
from PIL import Image

from fcam_mm.datasets import MetadataError
from fcam_mm.datasets.dataset_summary import (build_split_unchecked,
                                              scan_split)
from fcam_mm.visualization.dataset_browser import (CAPTION_HEIGHT,
                                                   HEADER_HEIGHT, PAD,
                                                   decode_ground_truth,
                                                   encode_ground_truth,
                                                   pipeline_view)
from tests.test_datasets.wsol_tree import (IMAGES, make_box_and_mask_tree,
                                           write_image, write_lines)
from .tool_helpers import REPO, load_tool, run_tool

TEST_PIPELINE = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadWSOLAnnotations'),
    dict(type='Resize', scale=(16, 16), keep_ratio=False),
    dict(type='PackWSOLInputs'),
]


def write_config(tmp_path, root, pipeline=TEST_PIPELINE, **dataset):
    """A config whose test split is the hand-made tree of wsol_tree.py
    (3 images, boxes and masks; the names cat, dog, owl)."""
    dataset = dict(
        dict(type='WSOLDataset', data_root=root, ann_file='metadata/test',
             box_file='localization.txt',
             mask_file='localization_mask.txt',
             classes='metadata/class_names.txt',
             data_prefix=dict(img_path='images', mask_path='masks'),
             test_mode=True, pipeline=pipeline), **dataset)
    path = str(tmp_path / 'browse_cfg.py')
    with open(path, 'w') as f:
        f.write(f'test_dataloader = dict(dataset={dataset!r})\n')
    return path


@pytest.fixture
def tree(tmp_path):
    root = str(tmp_path / 'tree')
    make_box_and_mask_tree(root)
    return root


def scan(config, split='test', **kwargs):
    dataset = build_split_unchecked(Config.fromfile(config), split)
    return scan_split(dataset, split, **kwargs)


def test_summary_numbers_by_hand(tree, tmp_path):
    # wsol_tree.IMAGES: img0 40x30 label 0, one box 9x10 px; img1 32x32
    # label 2, boxes 32x32 and 4x5 px; img2 20x50 label 1, one box 16x40.
    summary = scan(write_config(tmp_path, tree))
    assert summary.problems == []
    assert summary.num_images == 3
    assert summary.classes == ('cat', 'dog', 'owl')
    assert summary.class_counts.tolist() == [1, 1, 1]
    assert summary.widths.tolist() == [40, 32, 20]
    assert summary.heights.tolist() == [30, 32, 50]
    assert summary.boxes_per_image == [1, 2, 1]
    assert summary.box_fractions.tolist() == [
        90 / 1200, 1024 / 1024, 20 / 1024, 640 / 1000]
    assert (summary.with_masks, summary.with_ignore) == (3, 3)
    # sorted fractions 0.01953125, 0.075, 0.64, 1: linear quartiles at
    # positions 0.75, 1.5, 2.25
    q1 = 0.01953125 + 0.75 * (0.075 - 0.01953125)
    q3 = 0.64 + 0.25 * (1 - 0.64)
    assert summary.lines() == [
        f'test ({tree}/metadata/test): 3 images, 3 classes (3 with images)',
        '  images per class: min 1, median 1, max 1; fewest: cat (1), '
        'dog (1), owl (1)',
        '  image size W: min 20, median 32, max 40; H: min 30, median 32, '
        'max 50',
        '  boxes: 4; per image: 1 box: 2 images, 2 boxes: 1 image',
        f'  box area / image area: min 0.0195, q1 {q1:.4f}, median '
        f'{(0.075 + 0.64) / 2:.4f}, q3 {q3:.4f}, max 1.0000',
        '  masks: 3 images with masks, 3 with an ignore region',
        '  problems: none',
    ]
    assert f'{q1:.4f}, ' == '0.0611, ' and f'{q3:.4f}' == '0.7300'


def test_fewest_classes_include_empty_ones(tree, tmp_path):
    names = osp.join(tree, 'metadata', 'class_names.txt')
    write_lines(names, ['cat', 'dog', 'owl', 'emu'])
    summary = scan(write_config(tmp_path, tree))
    assert summary.class_counts.tolist() == [1, 1, 1, 0]
    assert summary.fewest_classes(2) == [('emu', 0), ('cat', 1)]
    assert summary.lines()[0].endswith('3 images, 4 classes (3 with images)')


def break_tree(root):
    """A missing image (img0), an image narrower than image_sizes.txt says
    (img1: 30x32, listed 32x32) so that its 32-px box and its masks no
    longer fit, and a mask of the wrong size (img2's)."""
    os.remove(osp.join(root, 'images', 'a', 'img0.png'))
    write_image(osp.join(root, 'images', 'a', 'img1.png'), 32, 30)
    cv2.imwrite(osp.join(root, 'masks', 'b', 'img2_m0.png'),
                np.zeros((10, 10), np.uint8))


def expected_problems(root):
    meta, images, masks = (osp.join(root, 'metadata', 'test'),
                           osp.join(root, 'images'),
                           osp.join(root, 'masks'))
    img1 = f'{images}/a/img1.png'
    return [
        f'{meta}/image_ids.txt:1: image {images}/a/img0.png does not exist',
        f'{meta}/image_sizes.txt:2: a/img1.png is 32x32 in the metadata but '
        f'{img1} is 30x32',
        f'{meta}/localization.txt:2: box (0, 0, 31, 31) of a/img1.png is '
        f'outside its 30x32 image {img1}',
        f'{meta}/localization_mask.txt:2: mask {masks}/a/img1_m0.png is '
        f'32x32 but its image {img1} is 30x32',
        f'{meta}/localization_mask.txt:2: ignore mask '
        f'{masks}/a/img1_ignore.png is 32x32 but its image {img1} is 30x32',
        f'{meta}/localization_mask.txt:3: mask {masks}/a/img1_m1.png is '
        f'32x32 but its image {img1} is 30x32',
        f'{meta}/localization_mask.txt:4: mask {masks}/b/img2_m0.png is '
        f'10x10 but its image {images}/b/img2.png is 20x50',
    ]


def test_every_problem_with_file_and_line(tree, tmp_path):
    break_tree(tree)
    config = write_config(tmp_path, tree)  # check_files=True by default
    # The dataset alone stops at the missing file ...
    with pytest.raises(MetadataError, match='do not exist'):
        from fcam_mm.registry import DATASETS
        DATASETS.build(Config.fromfile(config).test_dataloader.dataset)
    # ... the scan builds without that check and lists everything.
    summary = scan(config)
    assert [str(p) for p in summary.problems] == expected_problems(tree)
    # the numbers are the metadata's, whatever the files hold
    assert summary.num_images == 3 and summary.boxes_per_image == [1, 2, 1]


def test_tool_prints_problems_and_fails(tree, tmp_path, capsys):
    break_tree(tree)
    out = str(tmp_path / 'grid.png')
    code = load_tool('misc/browse_dataset.py').main(
        [write_config(tmp_path, tree), '--output', out])
    printed = capsys.readouterr().out
    assert code == 1
    assert '  problems: 7\n' in printed
    for problem in expected_problems(tree):
        assert f'    {problem}\n' in printed
    assert printed.rstrip().endswith('problems found (listed above)')
    # All three samples fail in the pipeline (missing, wrong sizes): the
    # grid shows placeholder cells of 128x128.
    grid = cv2.imread(out)
    assert grid.shape == (PAD + HEADER_HEIGHT + 128 + CAPTION_HEIGHT + PAD,
                          PAD + 3 * (128 + PAD), 3)


def test_unreadable_files(tree, tmp_path):
    images = osp.join(tree, 'images')
    with open(osp.join(images, 'a', 'img0.png'), 'w') as f:
        f.write('not an image')
    # img2: a valid header, pixel data cut in half
    path = osp.join(images, 'b', 'img2.png')
    with open(path, 'rb') as f:
        data = f.read()
    with open(path, 'wb') as f:
        f.write(data[:len(data) // 2])
    os.remove(osp.join(tree, 'masks', 'a', 'img1_ignore.png'))
    config = write_config(tmp_path, tree)
    meta = osp.join(tree, 'metadata', 'test')
    header_only = [str(p) for p in scan(config).problems]
    assert header_only == [
        f'{meta}/image_ids.txt:1: image {images}/a/img0.png cannot be read '
        f"as an image (UnidentifiedImageError: cannot identify image file "
        f"'{images}/a/img0.png')",
        f'{meta}/localization_mask.txt:2: ignore mask '
        f'{tree}/masks/a/img1_ignore.png does not exist',
    ]
    decoded = [str(p) for p in scan(config, decode=True).problems]
    assert decoded == header_only + [
        f'{meta}/image_ids.txt:3: image {path} cannot be decoded (OpenCV '
        'cannot decode it)'
    ]


def test_exif_orientation_as_the_loader_decodes(tree, tmp_path):
    # Stored 50 wide x 20 high with orientation 6 (rotate 90): OpenCV, and
    # so LoadImageFromFile, decodes it 20 wide x 50 high, img2's size.
    path = osp.join(tree, 'images', 'b', 'img2.png')
    image = Image.fromarray(np.zeros((20, 50, 3), np.uint8))
    exif = image.getexif()
    exif[0x0112] = 6
    image.save(path[:-4] + '.jpg', exif=exif)
    os.replace(path[:-4] + '.jpg', path)  # JPEG data under the .png name
    config = write_config(tmp_path, tree)
    assert scan(config).problems == []
    assert scan(config, decode=True).problems == []
    # read as stored, it is 50x20: its size, box and two masks are wrong
    problems = scan(config, exif_orientation=False).problems
    assert problems[0].message == (
        f'b/img2.png is 20x50 in the metadata but {path} is 50x20')
    assert [p.where.rsplit('/', 1)[1] for p in problems] == [
        'image_sizes.txt:3', 'localization.txt:4', 'localization_mask.txt:4',
        'localization_mask.txt:4']


def test_malformed_metadata_is_the_readers_error(tree, tmp_path, capsys):
    # A box outside image_sizes.txt: the reader rejects it at build time.
    boxes = osp.join(tree, 'metadata', 'test', 'localization.txt')
    write_lines(boxes, ['a/img0.png,2,3,41,12', 'a/img1.png,0,0,31,31',
                        'a/img1.png,5,5,8,9', 'b/img2.png,4,10,19,49'])
    config = write_config(tmp_path, tree)
    with pytest.raises(MetadataError, match='localization.txt:1: box'):
        scan(config)
    code = load_tool('misc/browse_dataset.py').main(
        [config, '--num-samples', '0'])
    printed = capsys.readouterr().out
    assert code == 1
    assert printed.startswith(
        f'test: cannot build the dataset: {boxes}:1: box (2, 3, 41, 12) of '
        "'a/img0.png' is outside the 40x30 image")


def box_images(root):
    """Replace each image of the tree by black with its LAST box white, so
    the pixels show where the box went."""
    for image_id, (_, width, height, boxes) in IMAGES.items():
        image = np.zeros((height, width, 3), np.uint8)
        x0, y0, x1, y1 = boxes[-1]
        image[y0:y1 + 1, x0:x1 + 1] = 255
        cv2.imwrite(osp.join(root, 'images', image_id), image)


@pytest.mark.parametrize('seed', [0, 1, 2])
def test_views_carry_the_gt_through_the_transforms(tree, tmp_path, seed):
    box_images(tree)
    pipeline = [
        dict(type='LoadImageFromFile'),
        dict(type='Resize', scale=(24, 36), keep_ratio=False,
             interpolation='nearest'),
        dict(type='RandomCrop', crop_size=(28, 16)),
        dict(type='RandomFlip', prob=1.0, direction='horizontal'),
        dict(type='PackWSOLInputs'),
    ]
    dataset = build_split_unchecked(
        Config.fromfile(write_config(tmp_path, tree, pipeline)), 'test')
    np.random.seed(seed)
    for index, (_, _, _, boxes) in enumerate(IMAGES.values()):
        view = pipeline_view(dataset, index)
        assert view['note'] == ''
        assert view['image'].shape == (28, 16, 3)
        white = view['image'][..., 0] == 255
        ys, xs = np.nonzero(white)
        drawn = view['boxes'][-1].tolist() if len(view['boxes']) else None
        if len(xs) == 0:  # the crop cut the box away
            assert len(view['boxes']) < len(boxes)
            continue
        assert drawn == [xs.min(), ys.min(), xs.max(), ys.max()]
        if len(boxes) == 1:  # its mask is the box; the ignore row is 255
            assert ((view['mask'] == 1) == white).all()
    # img1's first box is the whole image: still the whole view
    view = pipeline_view(dataset, 1)
    assert view['boxes'][0].tolist() == [0, 0, 15, 27]


def test_many_boxes_round_trip():
    rng = np.random.default_rng(0)
    boxes = []
    for _ in range(19):  # three channels of bits
        x0, y0 = rng.integers(0, 30, 2)
        boxes.append([x0, y0, x0 + rng.integers(0, 9), y0 + rng.integers(
            0, 9)])
    mask = (rng.random((40, 40)) > 0.5).astype(np.uint8)
    carried = encode_ground_truth(boxes, mask, 40, 40)
    assert carried.shape == (40, 40, 4)
    decoded, decoded_mask = decode_ground_truth(carried, len(boxes))
    assert decoded.tolist() == np.array(boxes, np.float32).tolist()
    assert (decoded_mask == mask).all()


def test_cli_on_a_synthetic_config(data_root, tmp_path):
    """One run as a user runs it: exit status, summary, PNG size."""
    out = str(tmp_path / 'browse.png')
    options = [f'{s}_dataloader.dataset.data_root={data_root}'
               for s in ('train', 'val', 'test')]
    result = run_tool('misc/browse_dataset.py',
                      'configs/wsol/cam_tinyresnet_synthetic.py',
                      '--num-samples', 3, '--output', out, '--cfg-options',
                      *options, cwd=REPO)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    # make_small_synthetic: 3 classes, 6 train / 3 val / 3 test per class
    for split, count in (('train', 18), ('val', 9), ('test', 9)):
        assert (f'{split} ({data_root}/metadata/{split}): {count} images, '
                '3 classes (3 with images)') in lines
    assert lines.count('  problems: none') == 3
    assert lines.count('  boxes: none (no box file in this split)') == 1
    assert lines.count('  boxes: 9; per image: 1 box: 9 images') == 2
    assert lines.count('  masks: 9 images with masks, 9 with an ignore '
                       'region') == 2
    # three rows (train, val, test) of three 128x128 cells: train crops
    # 128 from 144, val / test resize to 128
    grid = cv2.imread(out)
    assert grid.shape == (PAD + 3 * (HEADER_HEIGHT + 128 + CAPTION_HEIGHT +
                                     PAD), PAD + 3 * (128 + PAD), 3)
