"""tools/dataset_converters/cub.py on a tiny tree in the official
CUB_200_2011 layout written here: the exact metadata lines, the val split,
binarised masks, and errors that name file and line."""
import cv2
import numpy as np
import pytest

from .tool_helpers import load_tool

# id: (path, class, is_train, x, y, w, h); images are 40 x 30 (W x H)
IMAGES = {
    1: ('001.Albatross/a_1.jpg', 1, 1, 2.4, 3.0, 10.2, 5.5),
    2: ('001.Albatross/a_2.jpg', 1, 1, 0.0, 0.0, 40.0, 30.0),
    3: ('001.Albatross/a_3.jpg', 1, 1, 5.0, 6.0, 3.0, 4.0),
    4: ('001.Albatross/a_4.jpg', 1, 0, 1.5, 1.5, 1.0, 1.0),
    5: ('002.Auklet/b_1.jpg', 2, 1, 10.0, 10.0, 0.5, 0.5),
    6: ('002.Auklet/b_2.jpg', 2, 1, 39.5, 29.5, 3.0, 3.0),
    7: ('002.Auklet/b_3.jpg', 2, 1, 7.9, 8.1, 12.0, 12.0),
    8: ('002.Auklet/b_4.jpg', 2, 0, 20.0, 0.0, 20.0, 30.0),
}


def write_release(root, segmentations=None):
    (root / 'images').mkdir(parents=True)
    lines = {name: [] for name in ('images', 'image_class_labels',
                                   'train_test_split', 'bounding_boxes')}
    for i, (path, label, train, x, y, w, h) in IMAGES.items():
        (root / 'images' / path).parent.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(root / 'images' / path),
                    np.full((30, 40, 3), 10 * i, np.uint8))
        lines['images'].append(f'{i} {path}')
        lines['image_class_labels'].append(f'{i} {label}')
        lines['train_test_split'].append(f'{i} {train}')
        lines['bounding_boxes'].append(f'{i} {x} {y} {w} {h}')
        if segmentations is not None:
            png = segmentations / path.replace('.jpg', '.png')
            png.parent.mkdir(parents=True, exist_ok=True)
            grey = np.zeros((30, 40), np.uint8)
            grey[:, :10] = 127          # a minority of annotators
            grey[:, 10:20] = 128        # a majority
            cv2.imwrite(str(png), grey)
    for name, content in lines.items():
        (root / f'{name}.txt').write_text('\n'.join(content) + '\n')
    (root / 'classes.txt').write_text('1 001.Albatross\n2 002.Auklet\n')
    return root


def read(root, split, name):
    return (root / 'metadata' / split / f'{name}.txt').read_text().split()


def test_exact_metadata_with_a_seeded_val_slice(tmp_path):
    root = write_release(tmp_path / 'CUB_200_2011')
    tool = load_tool('dataset_converters/cub.py')
    counts = tool.main([str(root), '--val-per-class', '1', '--seed', '0'])
    assert counts == dict(train=4, val=2, test=2)
    val = read(root, 'val', 'image_ids')
    train = read(root, 'train', 'image_ids')
    # one image of each class, held out of train
    assert sorted(p.split('/')[0] for p in val) == ['001.Albatross',
                                                    '002.Auklet']
    assert not set(val) & set(train)
    assert len(set(val) | set(train)) == 6
    assert read(root, 'test', 'image_ids') == ['001.Albatross/a_4.jpg',
                                               '002.Auklet/b_4.jpg']
    assert read(root, 'test', 'class_labels') == [
        '001.Albatross/a_4.jpg,0', '002.Auklet/b_4.jpg,1']
    assert read(root, 'test', 'image_sizes') == [
        '001.Albatross/a_4.jpg,40,30', '002.Auklet/b_4.jpg,40,30']
    # floor(x), floor(y), ceil(x+w)-1, ceil(y+h)-1, clipped to W-1, H-1
    assert read(root, 'test', 'localization') == [
        '001.Albatross/a_4.jpg,1,1,2,2', '002.Auklet/b_4.jpg,20,0,39,29']
    boxes = dict(line.split(',', 1) for split in ('train', 'val')
                 for line in read(root, split, 'localization'))
    assert boxes['001.Albatross/a_1.jpg'] == '2,3,12,8'
    assert boxes['001.Albatross/a_2.jpg'] == '0,0,39,29'
    assert boxes['001.Albatross/a_3.jpg'] == '5,6,7,9'
    assert boxes['002.Auklet/b_1.jpg'] == '10,10,10,10'
    assert boxes['002.Auklet/b_2.jpg'] == '39,29,39,29'
    assert boxes['002.Auklet/b_3.jpg'] == '7,8,19,20'
    readme = (root / 'metadata' / 'README.txt').read_text()
    assert 'NOT CUBV2: 1 images per class' in readme
    assert (root / 'metadata' / 'class_names.txt').read_text() == \
        '001.Albatross\n002.Auklet\n'
    # the same seed gives the same slice; the output is a loadable dataset
    again = write_release(tmp_path / 'again')
    tool.main([str(again), '--val-per-class', '1', '--seed', '0'])
    assert read(again, 'val', 'image_ids') == val
    from fcam_mm.datasets import WSOLDataset
    dataset = WSOLDataset(ann_file='metadata/val', data_root=str(root),
                          data_prefix=dict(img_path='images'),
                          classes='metadata/class_names.txt')
    assert len(dataset) == 2


def test_cubv2_val_and_binarised_masks(tmp_path):
    root = write_release(tmp_path / 'CUB_200_2011',
                         segmentations=tmp_path / 'segmentations')
    cubv2 = tmp_path / 'CUBV2' / 'metadata' / 'val'
    cubv2.mkdir(parents=True)
    v = '001.Albatross/v_1.jpg'
    for name, line in (('image_ids', v), ('class_labels', f'{v},0'),
                       ('image_sizes', f'{v},50,40'),
                       ('localization', f'{v},1,2,30,20')):
        (cubv2 / f'{name}.txt').write_text(line + '\n')
    out = tmp_path / 'out'
    tool = load_tool('dataset_converters/cub.py')
    counts = tool.main(
        [str(root), '--out-dir', str(out), '--val-metadata', str(cubv2),
         '--segmentations', str(tmp_path / 'segmentations')])
    # CUBV2 copied; train keeps every official training image
    assert counts == dict(train=6, val=1, test=2)
    assert read(out, 'val', 'localization') == [f'{v},1,2,30,20']
    assert 'CUBV2, its metadata copied from' in \
        (out / 'metadata' / 'README.txt').read_text()
    assert read(out, 'test', 'localization_mask') == [
        '001.Albatross/a_4.jpg,001.Albatross/a_4.png,',
        '002.Auklet/b_4.jpg,002.Auklet/b_4.png,']
    mask = cv2.imread(str(out / 'masks' / '002.Auklet' / 'b_4.png'),
                      cv2.IMREAD_GRAYSCALE)
    assert (mask[:, :10] == 0).all() and (mask[:, 10:20] == 255).all()
    assert (mask[:, 20:] == 0).all()
    # a CUBV2 folder whose files disagree is refused
    (cubv2 / 'image_sizes.txt').write_text('001.Albatross/other.jpg,5,5\n')
    with pytest.raises(tool.CUBFormatError,
                       match=r'image_sizes.txt: does not list the images'):
        tool.main(
            [str(root), '--out-dir', str(tmp_path / 'out2'),
             '--val-metadata', str(cubv2)])


def test_bad_lines_name_file_and_line(tmp_path):
    tool = load_tool('dataset_converters/cub.py')
    root = write_release(tmp_path / 'a')
    boxes = (root / 'bounding_boxes.txt').read_text().splitlines()
    boxes[2] = '3 5.0 6.0 3.0'
    (root / 'bounding_boxes.txt').write_text('\n'.join(boxes) + '\n')
    with pytest.raises(tool.CUBFormatError,
                       match=r'bounding_boxes.txt:3: expected 5 fields, '
                       r"got 4: '3 5.0 6.0 3.0'"):
        tool.main([str(root)])

    root = write_release(tmp_path / 'b')
    (root / 'image_class_labels.txt').write_text('1 1\n2 one\n')
    with pytest.raises(tool.CUBFormatError,
                       match=r'image_class_labels.txt:2: .*one'):
        tool.main([str(root)])

    root = write_release(tmp_path / 'c')
    labels = (root / 'image_class_labels.txt').read_text()
    (root / 'image_class_labels.txt').write_text(labels.replace('8 2', '8 3'))
    with pytest.raises(tool.CUBFormatError,
                       match=r'image id 8 has class 3, not in classes.txt'):
        tool.main([str(root)])

    root = write_release(tmp_path / 'd')
    (root / 'train_test_split.txt').write_text('1 1\n')
    with pytest.raises(tool.CUBFormatError,
                       match=r'train_test_split.txt: no line for image id 2 '
                       r'\(7 missing\)'):
        tool.main([str(root)])

    with pytest.raises(FileNotFoundError, match=r'images.txt: missing'):
        tool.main([str(tmp_path / 'nothing')])
