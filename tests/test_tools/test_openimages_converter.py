"""tools/dataset_converters/openimages.py on a tiny OpenImages30k tree
written here: completion of a missing image_sizes.txt, --fix-sizes, every
problem of a bad tree reported at once with its file and line, the command
line's exit status, and datasets built from the checked metadata."""
import os

import numpy as np
import pytest
from PIL import Image

from .tool_helpers import load_tool, run_tool

# image: (stored width, height, EXIF orientation, label)
IMAGES = {
    'train/c1/t1.jpg': (40, 30, 1, 0),
    'train/c2/t2.jpg': (20, 30, 1, 1),
    'val/c1/v1.jpg': (40, 30, 1, 0),
    # stored 40x30, turned a quarter by its EXIF tag: loaded as 30x40
    'test/c2/s1.jpg': (40, 30, 6, 1),
    'test/c1/s2.jpg': (24, 16, 1, 0),
}
# PNG: (width, height) as stored; masks match the loaded image
PNGS = {
    'mask/val/c1/v1_0.png': (40, 30),
    'mask/val/c1/v1_1.png': (40, 30),
    'ignore/val/c1/v1.png': (40, 30),
    'mask/test/c2/s1_0.png': (30, 40),
    'mask/test/c1/s2_0.png': (24, 16),
}
METADATA = {
    'train': dict(
        image_ids=['train/c1/t1.jpg', 'train/c2/t2.jpg'],
        class_labels=['train/c1/t1.jpg,0', 'train/c2/t2.jpg,1'],
        image_sizes=['train/c1/t1.jpg,40,30', 'train/c2/t2.jpg,20,30']),
    # no image_sizes.txt: the tool writes it
    'val': dict(
        image_ids=['val/c1/v1.jpg'],
        class_labels=['val/c1/v1.jpg,0'],
        localization=['val/c1/v1.jpg,mask/val/c1/v1_0.png,'
                      'ignore/val/c1/v1.png',
                      'val/c1/v1.jpg,mask/val/c1/v1_1.png,']),
    'test': dict(
        image_ids=['test/c2/s1.jpg', 'test/c1/s2.jpg'],
        class_labels=['test/c2/s1.jpg,1', 'test/c1/s2.jpg,0'],
        # line 1 is the stored size, not the loaded (turned) one
        image_sizes=['test/c2/s1.jpg,40,30', 'test/c1/s2.jpg,24,16'],
        localization=['test/c2/s1.jpg,mask/test/c2/s1_0.png,',
                      'test/c1/s2.jpg,mask/test/c1/s2_0.png,']),
}


def write_tree(root, metadata=METADATA):
    for path, (width, height, orientation, _) in IMAGES.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        exif = Image.Exif()
        if orientation != 1:
            exif[0x0112] = orientation
        Image.fromarray(np.full((height, width, 3), 80, np.uint8)).save(
            root / path, 'JPEG', exif=exif.tobytes())
    for path, (width, height) in PNGS.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        mask = np.zeros((height, width), np.uint8)
        mask[2:8, 3:9] = 255
        Image.fromarray(mask).save(root / path)
    for split, files in metadata.items():
        (root / 'metadata' / split).mkdir(parents=True)
        for name, lines in files.items():
            (root / 'metadata' / split / f'{name}.txt').write_text(
                '\n'.join(lines) + '\n')
    return root


def read(root, split, name):
    return (root / 'metadata' / split / f'{name}.txt').read_text() \
        .splitlines()


def test_completion_fix_sizes_and_datasets(tmp_path):
    root = write_tree(tmp_path / 'OpenImages')
    tool = load_tool('dataset_converters/openimages.py')
    counts = tool.main([str(root), '--fix-sizes', '--num-classes', '2'])
    assert counts == dict(
        train=dict(images=2, masks=0, sizes_written=0, sizes_fixed=0),
        val=dict(images=1, masks=2, sizes_written=1, sizes_fixed=0),
        test=dict(images=2, masks=2, sizes_written=0, sizes_fixed=1))
    # written from the header; the turned image's line fixed, line 2 kept
    assert read(root, 'val', 'image_sizes') == ['val/c1/v1.jpg,40,30']
    assert read(root, 'test', 'image_sizes') == ['test/c2/s1.jpg,30,40',
                                                 'test/c1/s2.jpg,24,16']
    assert read(root, 'train', 'image_sizes') == \
        METADATA['train']['image_sizes']
    assert not (root / 'metadata' / 'train' / 'localization.txt').exists()
    # a checked tree checks again with nothing to do
    before = {p: p.read_bytes() for p in (root / 'metadata').rglob('*.txt')}
    assert tool.main([str(root)])['test']['sizes_fixed'] == 0
    assert {p: p.read_bytes()
            for p in (root / 'metadata').rglob('*.txt')} == before

    # the datasets build, and the loader agrees with sizes and masks
    from mmcv.transforms import LoadImageFromFile

    from fcam_mm.datasets import OpenImagesDataset
    from fcam_mm.datasets.transforms import LoadWSOLAnnotations
    for split, image_ids in (('val', ['val/c1/v1.jpg']),
                             ('test', ['test/c2/s1.jpg', 'test/c1/s2.jpg'])):
        dataset = OpenImagesDataset(ann_file=f'metadata/{split}',
                                    data_root=str(root), classes=['a', 'b'])
        assert [d['img_id'] for d in dataset] == image_ids
        for index in range(len(dataset)):
            item = LoadWSOLAnnotations()(
                LoadImageFromFile()(dataset.get_data_info(index)))
            assert item['ori_gt_mask'].shape == item['img'].shape[:2]
    item = LoadImageFromFile()(dataset.get_data_info(0))
    assert item['img'].shape[:2] == (40, 30)     # H x W after the turn


def test_wrong_size_is_a_problem_without_fix_sizes(tmp_path):
    root = write_tree(tmp_path / 'OpenImages')
    tool = load_tool('dataset_converters/openimages.py')
    with pytest.raises(tool.OpenImagesFormatError) as error:
        tool.main([str(root)])
    sizes = root / 'metadata' / 'test' / 'image_sizes.txt'
    assert error.value.problems == [
        f"{sizes}:1: 'test/c2/s1.jpg' is 40x30 here, but the image is "
        '30x40 (stored as 40x30; its EXIF orientation makes the loader turn '
        'it a quarter) (--fix-sizes rewrites the line)']
    # nothing written while a problem remains
    assert not (root / 'metadata' / 'val' / 'image_sizes.txt').exists()
    assert read(root, 'test', 'image_sizes')[0] == 'test/c2/s1.jpg,40,30'


def bad_tree(root):
    metadata = {split: dict(files) for split, files in METADATA.items()}
    metadata['train']['class_labels'] = ['train/c1/t1.jpg,0',
                                         'train/c3/zz.jpg,1']
    metadata['train']['image_sizes'] = ['train/c1/t1.jpg,40,30',
                                        'train/c2/t2.jpg,20']
    metadata['test']['class_labels'] = ['test/c2/s1.jpg,1',
                                        'test/c1/s2.jpg,7']
    del metadata['test']['localization']
    metadata['val']['localization'] = [
        'val/c1/v1.jpg,mask/val/c1/v1_0.png,ignore/val/c1/v1.png',
        'val/c1/v1.jpg,mask/val/c1/v1_9.png,',
        'val/c1/zz.jpg,mask/val/c1/v1_1.png,']
    write_tree(root, metadata)
    os.remove(root / 'val' / 'c1' / 'v1.jpg')
    # a mask of the wrong size
    Image.fromarray(np.zeros((30, 41), np.uint8)).save(
        root / 'mask' / 'val' / 'c1' / 'v1_0.png')
    return root


def test_every_problem_reported_with_file_and_line(tmp_path):
    root = bad_tree(tmp_path / 'OpenImages')
    tool = load_tool('dataset_converters/openimages.py')
    with pytest.raises(tool.OpenImagesFormatError) as error:
        tool.main([str(root), '--num-classes', '2'])
    m = root / 'metadata'
    assert error.value.problems == [
        # train: a line of two fields stops that file's reader
        f"{m}/train/image_sizes.txt:2: expected 3 comma-separated fields, "
        "got 2: 'train/c2/t2.jpg,20'",
        f"{m}/train/class_labels.txt:2: image 'train/c3/zz.jpg' is not in "
        'image_ids.txt',
        f"{m}/train/image_ids.txt:2: no class label for 'train/c2/t2.jpg' "
        'in class_labels.txt',
        # val: the image is gone, a line for an unlisted image, a mask gone
        f'{m}/val/image_ids.txt:1: {root}/val/c1/v1.jpg: no such file',
        f"{m}/val/localization.txt:3: image 'val/c1/zz.jpg' is not in "
        'image_ids.txt',
        f'{m}/val/localization.txt:2: mask: {root}/mask/val/c1/v1_9.png: '
        'no such file',
        # test: a label out of range; the masks file is missing
        f'{m}/test/class_labels.txt:2: class label 7 of '
        "'test/c1/s2.jpg' is out of range (0 <= label < 2)",
        f'{m}/test/localization.txt: missing (the test split is evaluated '
        'on its masks)',
        f"{m}/test/image_sizes.txt:1: 'test/c2/s1.jpg' is 40x30 here, but "
        'the image is 30x40 (stored as 40x30; its EXIF orientation makes '
        'the loader turn it a quarter) (--fix-sizes rewrites the line)',
    ]
    # the checks that the unparsed files hold back are named
    assert error.value.notes == [
        f'{m}/train: the image sizes not checked until image_sizes.txt '
        'parses',
        f"{m}/test: the labels' coverage not checked until "
        'class_labels.txt parses']
    assert str(error.value).splitlines()[-1] == \
        f'note: {error.value.notes[1]}'
    # the wrong-size mask of val is not flagged: its image is missing, so
    # there is no size to compare with; once the image is back, it is
    Image.fromarray(np.zeros((30, 40, 3), np.uint8)).save(
        root / 'val' / 'c1' / 'v1.jpg')
    with pytest.raises(tool.OpenImagesFormatError) as error:
        tool.main([str(root), '--splits', 'val'])
    assert error.value.problems == [
        f"{m}/val/localization.txt:3: image 'val/c1/zz.jpg' is not in "
        'image_ids.txt',
        f'{m}/val/localization.txt:1: mask mask/val/c1/v1_0.png is 41x30, '
        "but its image 'val/c1/v1.jpg' is 40x30",
        f'{m}/val/localization.txt:2: mask: {root}/mask/val/c1/v1_9.png: '
        'no such file',
    ]
    assert not (m / 'val' / 'image_sizes.txt').exists()


def test_command_line_exit_status(tmp_path):
    root = bad_tree(tmp_path / 'OpenImages')
    result = run_tool('dataset_converters/openimages.py', root)
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert lines[0] == '8 problem(s), nothing written:'
    assert 'Traceback' not in result.stderr
    assert f'{root}/metadata/val/image_ids.txt:1: {root}/val/c1/v1.jpg: ' \
        'no such file' in lines
