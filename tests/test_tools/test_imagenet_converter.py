"""tools/dataset_converters/imagenet.py on a tiny ILSVRC2012 tree written
here (train/<wnid>/ folders, flat val/ images, VOC XMLs): the exact metadata
lines, the 1-based VOC to 0-based box conversion, the ImageNetV2 val copy,
the command line, and errors that name file and line."""
import os
import re

import numpy as np
import pytest
from PIL import Image

from .tool_helpers import load_tool, run_tool

TRAIN = {  # path under train/: (width, height)
    'n01440764/n01440764_1.JPEG': (40, 30),
    'n01440764/n01440764_2.JPEG': (32, 24),
    'n01443537/n01443537_1.JPEG': (20, 20),
    'n01484850/n01484850_1.JPEG': (24, 16),
}
# stem: (stored width, height, EXIF orientation, [(wnid, VOC box)]);
# VOC boxes are 1-based inclusive xmin, ymin, xmax, ymax
VAL = {
    'ILSVRC2012_val_00000001': (40, 30, 1, [('n01484850', (1, 1, 40, 30))]),
    'ILSVRC2012_val_00000002': (50, 40, 1, [('n01440764', (5, 6, 20, 25)),
                                            ('n01440764', (0, 10, 55, 40))]),
    # stored 30x20, turned a quarter by its EXIF tag: the loader sees 20x30
    'ILSVRC2012_val_00000003': (30, 20, 6, [('n01443537', (2, 3, 20, 30))]),
}
SYNSETS = ('n01440764 tench, Tinca tinca\n'
           'n01443537 goldfish, Carassius auratus\n'
           'n01491361 tiger shark, Galeocerdo cuvieri\n'
           'n01484850 great white shark, white shark\n')


def save_jpeg(path, width, height, orientation=1, value=90):
    path.parent.mkdir(parents=True, exist_ok=True)
    image = Image.fromarray(np.full((height, width, 3), value, np.uint8))
    exif = Image.Exif()
    if orientation != 1:
        exif[0x0112] = orientation
    image.save(path, 'JPEG', exif=exif.tobytes())


def voc_xml(stem, width, height, objects):
    """A VOC annotation; its <size> is on line 4, object k's <name> on line
    10 + 9k, its <bndbox> on 11 + 9k and <xmin> on 12 + 9k."""
    lines = ['<annotation>', '  <folder>val</folder>',
             f'  <filename>{stem}</filename>', '  <size>',
             f'    <width>{width}</width>', f'    <height>{height}</height>',
             '    <depth>3</depth>', '  </size>']
    for name, (x0, y0, x1, y1) in objects:
        lines += ['  <object>', f'    <name>{name}</name>', '    <bndbox>',
                  f'      <xmin>{x0}</xmin>', f'      <ymin>{y0}</ymin>',
                  f'      <xmax>{x1}</xmax>', f'      <ymax>{y1}</ymax>',
                  '    </bndbox>', '  </object>']
    return '\n'.join(lines + ['</annotation>']) + '\n'


def write_tree(root, xml_dir=None):
    """The release under ``root``; XMLs in ``xml_dir`` (default val/)."""
    for path, (width, height) in TRAIN.items():
        save_jpeg(root / 'train' / path, width, height)
    xml_dir = xml_dir or root / 'val'
    xml_dir.mkdir(parents=True, exist_ok=True)
    for stem, (width, height, orientation, objects) in VAL.items():
        save_jpeg(root / 'val' / f'{stem}.JPEG', width, height, orientation)
        turned = (height, width) if orientation == 6 else (width, height)
        (xml_dir / f'{stem}.xml').write_text(voc_xml(stem, *turned,
                                                     objects))
    return root


def read(root, split, name):
    return (root / 'metadata' / split / f'{name}.txt').read_text() \
        .splitlines()


V = 'val/ILSVRC2012_val_0000000'


def test_exact_metadata_and_box_conversion(tmp_path):
    root = write_tree(tmp_path / 'ILSVRC', xml_dir=tmp_path / 'bbox_val')
    (tmp_path / 'synsets.txt').write_text(SYNSETS)
    tool = load_tool('dataset_converters/imagenet.py')
    counts = tool.main([str(root), '--val-xml', str(tmp_path / 'bbox_val'),
                        '--synsets', str(tmp_path / 'synsets.txt')])
    assert counts == dict(train=4, val=None, test=3)
    # classes: sorted train folders, 0-based; no boxes for train
    assert read(root, 'train', 'image_ids') == [
        'train/n01440764/n01440764_1.JPEG',
        'train/n01440764/n01440764_2.JPEG',
        'train/n01443537/n01443537_1.JPEG',
        'train/n01484850/n01484850_1.JPEG']
    assert read(root, 'train', 'class_labels') == [
        'train/n01440764/n01440764_1.JPEG,0',
        'train/n01440764/n01440764_2.JPEG,0',
        'train/n01443537/n01443537_1.JPEG,1',
        'train/n01484850/n01484850_1.JPEG,2']
    assert read(root, 'train', 'image_sizes') == [
        'train/n01440764/n01440764_1.JPEG,40,30',
        'train/n01440764/n01440764_2.JPEG,32,24',
        'train/n01443537/n01443537_1.JPEG,20,20',
        'train/n01484850/n01484850_1.JPEG,24,16']
    assert sorted(os.listdir(root / 'metadata' / 'train')) == [
        'class_labels.txt', 'image_ids.txt', 'image_sizes.txt']
    # the official val is the test split; its label is its boxes' class
    assert read(root, 'test', 'image_ids') == [f'{V}1.JPEG', f'{V}2.JPEG',
                                               f'{V}3.JPEG']
    assert read(root, 'test', 'class_labels') == [
        f'{V}1.JPEG,2', f'{V}2.JPEG,0', f'{V}3.JPEG,1']
    # EXIF orientation 6: the stored 30x20 is loaded as 20x30
    assert read(root, 'test', 'image_sizes') == [
        f'{V}1.JPEG,40,30', f'{V}2.JPEG,50,40', f'{V}3.JPEG,20,30']
    # VOC (1-based inclusive) minus 1, clipped to [0, W-1] x [0, H-1]:
    # (1,1,40,30) in 40x30 -> (0,0,39,29); (5,6,20,25) -> (4,5,19,24);
    # (0,10,55,40) in 50x40 -> (-1,9,54,39) -> clipped (0,9,49,39);
    # (2,3,20,30) in 20x30 -> (1,2,19,29)
    assert read(root, 'test', 'localization') == [
        f'{V}1.JPEG,0,0,39,29', f'{V}2.JPEG,4,5,19,24',
        f'{V}2.JPEG,0,9,49,39', f'{V}3.JPEG,1,2,19,29']
    # names from the synsets file, in class order (its extra line unused)
    assert (root / 'metadata' / 'class_names.txt').read_text() == (
        'tench, Tinca tinca\ngoldfish, Carassius auratus\n'
        'great white shark, white shark\n')
    assert not (root / 'metadata' / 'val').exists()
    readme = (root / 'metadata' / 'README.txt').read_text()
    assert 'val: NONE written (no --val-metadata)' in readme
    assert '1 of 4 boxes clipped' in readme

    # the written metadata builds datasets; the loader agrees with the
    # sizes (EXIF turn included) and keeps the boxes
    from mmcv.transforms import LoadImageFromFile

    from fcam_mm.datasets import ILSVRCDataset, WSOLDataset
    from fcam_mm.datasets.transforms import LoadWSOLAnnotations
    test = ILSVRCDataset(ann_file='metadata/test', data_root=str(root),
                         classes='metadata/class_names.txt')
    assert len(test) == 3 and test.metainfo['classes'][2] == \
        'great white shark, white shark'
    assert test.get_data_info(1)['gt_bboxes'].tolist() == [
        [4, 5, 19, 24], [0, 9, 49, 39]]
    item = LoadWSOLAnnotations()(LoadImageFromFile()(test.get_data_info(2)))
    assert item['img'].shape[:2] == (30, 20)
    assert item['ori_gt_bboxes'].tolist() == [[1, 2, 19, 29]]
    train = WSOLDataset(ann_file='metadata/train', data_root=str(root),
                        box_file=None, classes='metadata/class_names.txt')
    assert [d['gt_label'] for d in train] == [0, 0, 1, 2]


def test_imagenetv2_val_copied(tmp_path):
    root = write_tree(tmp_path / 'ILSVRC')
    v2 = tmp_path / 'ImageNetV2' / 'metadata' / 'val'
    v2.mkdir(parents=True)
    v = 'val2/0/a.jpeg'
    files = dict(image_ids=[v], class_labels=[f'{v},0'],
                 image_sizes=[f'{v},50,40'],
                 localization=[f'{v},1,2,30,20', f'{v},0,0,49,39'])
    for name, lines in files.items():
        (v2 / f'{name}.txt').write_text('\n'.join(lines) + '\n')
    out = tmp_path / 'out'
    tool = load_tool('dataset_converters/imagenet.py')
    counts = tool.main([str(root), '--out-dir', str(out), '--val-metadata',
                        str(v2)])
    assert counts == dict(train=4, val=1, test=3)
    for name, lines in files.items():
        assert read(out, 'val', name) == lines
    assert (out / 'metadata' / 'class_names.txt').read_text() == \
        'n01440764\nn01443537\nn01484850\n'
    assert 'val: ImageNetV2, its metadata copied from' in \
        (out / 'metadata' / 'README.txt').read_text()
    # a label beyond the 3 classes is refused, naming file and line
    (v2 / 'class_labels.txt').write_text(f'{v},3\n')
    with pytest.raises(tool.ImageNetFormatError,
                       match=r'class_labels.txt:1: class label 3 .* < 3'):
        tool.main([str(root), '--out-dir', str(tmp_path / 'out2'),
                   '--val-metadata', str(v2)])
    assert not (tmp_path / 'out2').exists()      # nothing written


def test_command_line(tmp_path):
    """XMLs next to the images (the default --val-xml)."""
    root = write_tree(tmp_path / 'ILSVRC')
    result = run_tool('dataset_converters/imagenet.py', root)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == 'train: 4 images, val: none, test: 3 ' \
        'images'
    assert read(root, 'test', 'class_labels') == [
        f'{V}1.JPEG,2', f'{V}2.JPEG,0', f'{V}3.JPEG,1']


def convert_with(tmp_path, name, stem=None, xml=None, change=None):
    """Convert a fresh tree whose XML ``stem`` is replaced by ``xml``
    (and which ``change(root)`` alters); returns the tool, root, error."""
    root = write_tree(tmp_path / name)
    if stem is not None:
        (root / 'val' / f'{stem}.xml').write_text(xml)
    if change is not None:
        change(root)
    tool = load_tool('dataset_converters/imagenet.py')
    with pytest.raises(tool.ImageNetFormatError) as error:
        tool.main([str(root)])
    assert not (root / 'metadata').exists()       # nothing written
    return root, str(error.value)


S1, S2, S3 = sorted(VAL)


def test_xml_errors_name_file_and_line(tmp_path):
    xml1 = str(tmp_path / 'a' / 'val' / f'{S1}.xml')
    _, message = convert_with(tmp_path, 'a', S1, voc_xml(
        S1, 40, 30, [('n99999999', (1, 1, 40, 30))]))
    assert message == (f"{xml1}:10: unknown wnid 'n99999999' (not a class "
                       'folder of train/)')

    _, message = convert_with(tmp_path, 'b', S2, voc_xml(
        S2, 50, 40, [('n01440764', (5, 6, 20, 25)),
                     ('n01443537', (1, 1, 9, 9))]))
    assert message.endswith(f'{S2}.xml:19: object of class n01443537, but '
                            'the object on line 10 is n01440764; an image '
                            'has one label')

    root, message = convert_with(tmp_path, 'c', S1, voc_xml(
        S1, 41, 30, [('n01484850', (1, 1, 40, 30))]))
    assert message == (f'{root}/val/{S1}.xml:4: <size> says 41x30, but '
                       f'{root}/val/{S1}.JPEG is 40x30')
    # the size stored in the file, not the turned one: the note says why
    _, message = convert_with(tmp_path, 'd', S3, voc_xml(
        S3, 30, 20, [('n01443537', (2, 3, 20, 20))]))
    assert message.endswith('is 20x30 (stored as 30x20; its EXIF '
                            'orientation makes the loader turn it a '
                            'quarter)')

    broken = voc_xml(S2, 50, 40, [('n01440764', (5, 6, 20, 25))]).replace(
        '</width>', '</wdth>')
    _, message = convert_with(tmp_path, 'e', S2, broken)
    assert re.fullmatch(rf'.*{S2}\.xml:5: malformed XML: mismatched tag '
                        r'\(column \d+\)', message)

    for name, box, line, what in (
            ('f', ('abc', 1, 40, 30), 12, "<xmin> must be an integer, got "
             "'abc'"),
            ('g', (30, 1, 20, 30), 11, 'box (30, 1, 20, 30) has xmin > xmax '
             'or ymin > ymax'),
            ('h', (41, 1, 45, 30), 11, 'box (41, 1, 45, 30) lies outside '
             'the 40x30 image')):
        _, message = convert_with(tmp_path, name, S1, voc_xml(
            S1, 40, 30, [('n01484850', box)]))
        assert message.startswith(f'{tmp_path / name}/val/{S1}.xml:{line}: '
                                  f'{what}'), message

    _, message = convert_with(tmp_path, 'i', S1, voc_xml(S1, 40, 30, []))
    assert message.endswith(f'{S1}.xml:1: no <object>; every validation '
                            'image has at least one box')
    _, message = convert_with(tmp_path, 'j', S1, voc_xml(
        S1, 40, 30, [('n01484850', (1, 1, 4, 4))]).replace(
            f'<filename>{S1}', '<filename>ILSVRC2012_val_00000009'))
    assert message.endswith(f"{S1}.xml:3: <filename> is "
                            f"'ILSVRC2012_val_00000009', but this XML pairs "
                            f'with {S1}.JPEG')
    xml = voc_xml(S1, 40, 30, [('n01484850', (1, 1, 4, 4))])
    _, message = convert_with(tmp_path, 'k', S1, xml.replace(
        '    <height>30</height>\n', ''))
    assert message.endswith(f'{S1}.xml:4: <size> has 0 <height>, expected '
                            'one')


def test_unpaired_and_stray_files_are_named(tmp_path):
    def unpair(root):
        (root / 'val' / f'{S1}.xml').unlink()
        (root / 'val' / f'{S3}.JPEG').unlink()
    root, message = convert_with(tmp_path, 'a', change=unpair)
    val = root / 'val'
    assert message == (f'1 image(s) in {val} without an XML in {val}: '
                       f'{S1}.JPEG; 1 XML(s) in {val} without an image in '
                       f'{val}: {S3}.xml')

    root, message = convert_with(
        tmp_path, 'b', change=lambda r: (r / 'val' / 'notes.txt').touch())
    assert message == (f'{root / "val"}: not validation images or XMLs '
                       '(1; the images lie flat in val/): notes.txt')
    root, message = convert_with(
        tmp_path, 'c',
        change=lambda r: (r / 'train' / 'n01443537' / 'x.txt').touch())
    assert message == (f'{root}/train/n01443537: not image files (1): '
                       'x.txt')
    root, message = convert_with(
        tmp_path, 'd', change=lambda r: (r / 'train' / 'n0000').mkdir())
    assert message == f'{root}/train/n0000: no image (an empty class)'


def test_synsets_errors(tmp_path):
    root = write_tree(tmp_path / 'ILSVRC')
    tool = load_tool('dataset_converters/imagenet.py')
    synsets = tmp_path / 'synsets.txt'
    synsets.write_text('n01440764 tench\nn01443537\n')
    with pytest.raises(tool.ImageNetFormatError) as error:
        tool.main([str(root), '--synsets', str(synsets)])
    assert str(error.value) == (f'{synsets}:2: expected "<wnid> <name>", '
                                "got 'n01443537'")
    synsets.write_text('n01440764 tench\n\nn01440764 tench again\n')
    with pytest.raises(tool.ImageNetFormatError,
                       match=r'synsets.txt:3: wnid n01440764 listed twice '
                       r'\(first on line 1\)'):
        tool.main([str(root), '--synsets', str(synsets)])
    synsets.write_text('n01440764 tench\nn01443537 goldfish\n')
    with pytest.raises(tool.ImageNetFormatError,
                       match=r'synsets.txt: no line for 1 class\(es\) of '
                       r'train/: n01484850$'):
        tool.main([str(root), '--synsets', str(synsets)])
    assert not (root / 'metadata').exists()
