"""ILSVRC2012 (ImageNet-1k, the official release) to the WSOL metadata
fcam_mm reads.

``python tools/dataset_converters/imagenet.py ILSVRC [--out-dir DIR]
[--val-xml XML_DIR] [--synsets LOC_synset_mapping.txt]
[--val-metadata ImageNetV2/metadata/val]``

Input, in ``ILSVRC`` (the folder that becomes ``data_root``, with
``img_path=''``, of ``configs/_base_/datasets/ilsvrc.py``):

- ``train/<wnid>/<image>``: the training images, one folder per class
  (``ILSVRC2012_img_train.tar`` with its per-class tars extracted). The
  classes are the sorted folder names (torchvision's ``ImageFolder``
  order); a class's index is its 0-based rank there.
- ``val/<image>``: the 50,000 validation images, flat
  (``ILSVRC2012_img_val.tar``; not sorted into class folders).
- ``XML_DIR/<image stem>.xml`` (default ``val/`` itself): the official
  validation boxes (``ILSVRC2012_bbox_val_v3.tgz``), one PASCAL-VOC file per
  image: ``<annotation>`` with ``<filename>`` (the image's stem),
  ``<size><width>,<height>`` and one ``<object>`` per box, each with the
  class's ``<name>`` (a wnid) and ``<bndbox><xmin>,<ymin>,<xmax>,<ymax>``.
- ``--synsets`` (optional; ``LOC_synset_mapping.txt`` of the Kaggle
  release): ``<wnid> <human name>`` per line, for ``class_names.txt``;
  without it the class names are the wnids.

Files are images by their extension (``.jpeg``, ``.jpg``, ``.png``, ...,
any case); names starting with ``.`` are not data and are passed over;
any other file where images or XMLs are expected is an error.

Output, in ``DIR/metadata/`` (default ``DIR``: ``ILSVRC``):

- ``class_names.txt``: one name per class, in class-index order.
- ``train/{image_ids,class_labels,image_sizes}.txt``: every training
  image, no ``localization.txt`` (WSOL trains on labels only; the train
  dataset of the configs has ``box_file=None``).
- ``test/{image_ids,class_labels,image_sizes,localization}.txt``: the
  official validation images — the protocol's test split — with one line
  per box, in the XML's order. An image's label is the class of its boxes.
- ``val/``: the protocol's val split is ImageNetV2 with the boxes of Choe
  et al. (wsolevaluation's ``metadata/ILSVRC/val``); ``--val-metadata``
  copies that folder, checked with the metadata readers (its images go
  under ``ILSVRC/`` with the paths it lists). Without it NO val is
  written, and ``README.txt`` says so: a held-out slice of train has no
  boxes, so it cannot select a model by localization, and a slice of the
  official validation images would be taken out of the test split that
  every published number uses. A config that reads ``metadata/val`` then
  fails when the dataset is built, naming the missing file.
- ``README.txt``: what was done, and the counts.

Image sizes are read from the file headers (PIL; pixels not decoded) as the
loader decodes the image, i.e. with the EXIF orientation applied.

Boxes: VOC coordinates are 1-based inclusive pixels, our metadata
(docs/datasets.md) 0-based inclusive, so each coordinate loses 1:
``x0, y0, x1, y1 = xmin - 1, ymin - 1, xmax - 1, ymax - 1``, then clipped to
``[0, W-1] x [0, H-1]`` (``README.txt`` counts the clipped boxes). A box
with ``xmin > xmax`` (or ``ymin > ymax``) or that lies wholly outside the
image is an error.

Errors (:class:`ImageNetFormatError`) name the file, and the 1-based line
when there is one: a malformed XML, an XML without ``<size>`` or
``<object>``, a ``<size>`` that is not the image's real size, an unknown
wnid, objects of different classes in one image, a ``<filename>`` that is
not the image's, a val image without an XML or an XML without an image
(all of them are listed), a bad ``--synsets`` line or a class it lacks.
Nothing is written unless the whole input converts.
"""
import argparse
import os
import os.path as osp
import sys
from collections import defaultdict
from xml.parsers import expat

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, REPO)
from fcam_mm.datasets.conversion import (ConversionError,  # noqa: E402
                                         copy_val_metadata, image_size,
                                         size_note)
from fcam_mm.datasets.file_writing import write_lines  # noqa: E402

SPLITS = ('train', 'val', 'test')
# torchvision's IMG_EXTENSIONS
IMAGE_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.ppm', '.bmp', '.pgm', '.tif',
                    '.tiff', '.webp')
LISTED = 10  # names shown when a message lists missing files


class ImageNetFormatError(ConversionError):
    """A file of the ILSVRC2012 release that is missing, malformed or
    inconsistent with the others."""


def is_image(name):
    return osp.splitext(name)[1].lower() in IMAGE_EXTENSIONS


def visible(folder):
    """The sorted names in ``folder``, except hidden ones (``.``...)."""
    return sorted(n for n in os.listdir(folder) if not n.startswith('.'))


def listing(names):
    shown = ', '.join(names[:LISTED])
    more = len(names) - LISTED
    return shown + (f' and {more} more' if more > 0 else '')


def list_train(root):
    """``(wnids, {wnid: [image names]})`` of ``root/train``."""
    train = osp.join(root, 'train')
    if not osp.isdir(train):
        raise FileNotFoundError(f'{train}: missing (is this the ILSVRC2012 '
                                'folder, with train/ and val/?)')
    names = visible(train)
    stray = [n for n in names if not osp.isdir(osp.join(train, n))]
    if stray:
        raise ImageNetFormatError(
            f'{train}: {len(stray)} file(s) outside the class folders: '
            f'{listing(stray)}')
    if not names:
        raise ImageNetFormatError(f'{train}: no class folder')
    images = {}
    for wnid in names:
        folder = osp.join(train, wnid)
        files = visible(folder)
        bad = [n for n in files
               if not (is_image(n) and osp.isfile(osp.join(folder, n)))]
        if bad:
            raise ImageNetFormatError(
                f'{folder}: not image files ({len(bad)}): {listing(bad)}')
        if not files:
            raise ImageNetFormatError(f'{folder}: no image (an empty class)')
        images[wnid] = files
    return names, images


def read_synsets(path, wnids):
    """``{wnid: human name}`` of a ``LOC_synset_mapping.txt``-style file;
    every class of train/ must have a line (extra lines are allowed)."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'{path}: missing (--synsets)')
    with open(path, 'rb') as f:
        data = f.read()
    names, lines = {}, {}
    for number, raw in enumerate(data.splitlines(), 1):
        try:
            line = raw.decode('utf-8-sig' if number == 1 else 'utf-8')
        except UnicodeDecodeError:
            raise ImageNetFormatError(f'{path}:{number}: not valid UTF-8') \
                from None
        if not line.strip():
            continue
        parts = line.strip().split(None, 1)
        if len(parts) != 2:
            raise ImageNetFormatError(
                f'{path}:{number}: expected "<wnid> <name>", got '
                f'{line.strip()!r}')
        wnid, name = parts
        if wnid in names:
            raise ImageNetFormatError(
                f'{path}:{number}: wnid {wnid} listed twice (first on line '
                f'{lines[wnid]})')
        names[wnid], lines[wnid] = name.strip(), number
    missing = [w for w in wnids if w not in names]
    if missing:
        raise ImageNetFormatError(
            f'{path}: no line for {len(missing)} class(es) of train/: '
            f'{listing(missing)}')
    return names


class XMLNode:
    """An element of a parsed XML: tag, text, children and the 1-based line
    of its start tag."""

    def __init__(self, tag, line):
        self.tag, self.line, self.text, self.children = tag, line, '', []

    def all(self, tag):
        return [c for c in self.children if c.tag == tag]


def parse_xml(path):
    """The root :class:`XMLNode` of ``path``; a malformed file is an error
    naming the line the parser stopped at. Entity declarations (which the
    release never uses) are refused."""
    with open(path, 'rb') as f:
        data = f.read()
    parser = expat.ParserCreate()
    roots, stack = [], []

    def start(tag, attributes):
        node = XMLNode(tag, parser.CurrentLineNumber)
        (stack[-1].children if stack else roots).append(node)
        stack.append(node)

    def end(tag):
        stack.pop()

    def text(data):
        if stack:
            stack[-1].text += data

    def entity(*args):
        raise ImageNetFormatError(
            f'{path}:{parser.CurrentLineNumber}: entity declarations are '
            'not allowed in an annotation')

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = text
    parser.EntityDeclHandler = entity
    try:
        parser.Parse(data, True)
    except expat.ExpatError as e:
        raise ImageNetFormatError(
            f'{path}:{e.lineno}: malformed XML: {expat.ErrorString(e.code)} '
            f'(column {e.offset + 1})') from None
    return roots[0]


def one(node, tag, path):
    found = node.all(tag)
    if len(found) != 1:
        raise ImageNetFormatError(
            f'{path}:{node.line}: <{node.tag}> has {len(found)} <{tag}>, '
            'expected one')
    return found[0]


def integer(node, tag, path):
    child = one(node, tag, path)
    try:
        return int(child.text.strip())
    except ValueError:
        raise ImageNetFormatError(
            f'{path}:{child.line}: <{tag}> must be an integer, got '
            f'{child.text.strip()!r}') from None


def voc_to_inclusive(xmin, ymin, xmax, ymax, width, height):
    """A VOC box (1-based inclusive) as our 0-based inclusive box, clipped to
    the ``width x height`` image; also whether clipping changed it."""
    box = (xmin - 1, ymin - 1, xmax - 1, ymax - 1)
    clipped = (max(0, box[0]), max(0, box[1]), min(width - 1, box[2]),
               min(height - 1, box[3]))
    return clipped, clipped != box


def read_annotation(path, image_path, stem, wnids):
    """``(wnid, [boxes], clipped_count, (width, height))`` of one
    validation XML, checked against its image ``image_path``."""
    root = parse_xml(path)
    if root.tag != 'annotation':
        raise ImageNetFormatError(f'{path}:{root.line}: the root element is '
                                  f'<{root.tag}>, expected <annotation>')
    for node in root.all('filename'):
        name = node.text.strip()
        if (osp.splitext(name)[0] if is_image(name) else name) != stem:
            raise ImageNetFormatError(
                f'{path}:{node.line}: <filename> is {name!r}, but this XML '
                f'pairs with {osp.basename(image_path)}')
    size = one(root, 'size', path)
    xml_size = (integer(size, 'width', path), integer(size, 'height', path))
    real = image_size(image_path, ImageNetFormatError)
    if xml_size != real:
        raise ImageNetFormatError(
            f'{path}:{size.line}: <size> says {xml_size[0]}x{xml_size[1]}, '
            f'but {image_path} is {real[0]}x{real[1]}'
            f'{size_note(image_path, real)}')
    width, height = real
    objects = root.all('object')
    if not objects:
        raise ImageNetFormatError(f'{path}:{root.line}: no <object>; every '
                                  'validation image has at least one box')
    label = first = None
    boxes, clipped = [], 0
    for obj in objects:
        name_node = one(obj, 'name', path)
        wnid = name_node.text.strip()
        if wnid not in wnids:
            raise ImageNetFormatError(
                f'{path}:{name_node.line}: unknown wnid {wnid!r} (not a '
                'class folder of train/)')
        if label is None:
            label, first = wnid, name_node.line
        elif wnid != label:
            raise ImageNetFormatError(
                f'{path}:{name_node.line}: object of class {wnid}, but the '
                f'object on line {first} is {label}; an image has one label')
        box = one(obj, 'bndbox', path)
        xmin, ymin, xmax, ymax = (integer(box, k, path) for k in
                                  ('xmin', 'ymin', 'xmax', 'ymax'))
        if xmin > xmax or ymin > ymax:
            raise ImageNetFormatError(
                f'{path}:{box.line}: box ({xmin}, {ymin}, {xmax}, {ymax}) '
                'has xmin > xmax or ymin > ymax')
        if xmax < 1 or ymax < 1 or xmin > width or ymin > height:
            raise ImageNetFormatError(
                f'{path}:{box.line}: box ({xmin}, {ymin}, {xmax}, {ymax}) '
                f'lies outside the {width}x{height} image (VOC boxes are '
                f'1-based: 1..{width}, 1..{height})')
        inclusive, was_clipped = voc_to_inclusive(xmin, ymin, xmax, ymax,
                                                  width, height)
        boxes.append(inclusive)
        clipped += was_clipped
    return label, boxes, clipped, real


def pair_val(root, xml_dir):
    """``[(stem, image name, xml path)]`` of the validation images, sorted
    by image name; every image needs an XML and every XML an image."""
    val = osp.join(root, 'val')
    if not osp.isdir(val):
        raise FileNotFoundError(f'{val}: missing (the official validation '
                                'images, flat)')
    if not osp.isdir(xml_dir):
        raise FileNotFoundError(f'{xml_dir}: missing (--val-xml, the '
                                'folder of the validation XMLs)')
    same = osp.samefile(val, xml_dir)
    images, bad = {}, []
    for name in visible(val):
        full = osp.join(val, name)
        if osp.isdir(full):
            bad.append(name + '/')
        elif is_image(name):
            images[osp.splitext(name)[0]] = name
        elif not (same and name.lower().endswith('.xml')):
            bad.append(name)
    if bad:
        raise ImageNetFormatError(
            f'{val}: not validation images{" or XMLs" if same else ""} '
            f'({len(bad)}; the images lie flat in val/): {listing(bad)}')
    xmls, bad = {}, []
    for name in visible(xml_dir):
        if name.lower().endswith('.xml') and \
                osp.isfile(osp.join(xml_dir, name)):
            xmls[osp.splitext(name)[0]] = osp.join(xml_dir, name)
        elif not same:
            bad.append(name)
    if bad:
        raise ImageNetFormatError(
            f'{xml_dir}: not XML files ({len(bad)}): {listing(bad)}')
    no_xml = sorted(images[s] for s in images if s not in xmls)
    no_image = sorted(osp.basename(xmls[s]) for s in xmls if s not in images)
    problems = []
    if no_xml:
        problems.append(f'{len(no_xml)} image(s) in {val} without an XML in '
                        f'{xml_dir}: {listing(no_xml)}')
    if no_image:
        problems.append(f'{len(no_image)} XML(s) in {xml_dir} without an '
                        f'image in {val}: {listing(no_image)}')
    if problems:
        raise ImageNetFormatError('; '.join(problems))
    if not images:
        raise ImageNetFormatError(f'{val}: no validation image')
    return [(s, images[s], xmls[s])
            for s in sorted(images, key=lambda s: images[s])]


def convert(root, out_dir=None, val_xml=None, synsets=None,
            val_metadata=None):
    out_dir = out_dir or root
    val_xml = val_xml or osp.join(root, 'val')
    wnids, train_images = list_train(root)
    index = {w: k for k, w in enumerate(wnids)}
    names = read_synsets(synsets, wnids) if synsets else None
    pairs = pair_val(root, val_xml)

    lines = {split: defaultdict(list) for split in ('train', 'test')}
    counts = dict(train=0, val=None, test=0)
    for wnid in wnids:
        for name in train_images[wnid]:
            path = f'train/{wnid}/{name}'
            width, height = image_size(osp.join(root, path),
                                       ImageNetFormatError)
            lines['train']['image_ids'].append(path)
            lines['train']['class_labels'].append(f'{path},{index[wnid]}')
            lines['train']['image_sizes'].append(f'{path},{width},{height}')
            counts['train'] += 1
    boxes_written = clipped = 0
    for stem, name, xml_path in pairs:
        path = f'val/{name}'
        image_path = osp.join(root, path)
        wnid, boxes, n_clipped, (width, height) = read_annotation(
            xml_path, image_path, stem, index)
        test = lines['test']
        test['image_ids'].append(path)
        test['class_labels'].append(f'{path},{index[wnid]}')
        test['image_sizes'].append(f'{path},{width},{height}')
        test['localization'] += [f'{path},' + ','.join(map(str, box))
                                 for box in boxes]
        counts['test'] += 1
        boxes_written += len(boxes)
        clipped += n_clipped

    val_folder = osp.join(out_dir, 'metadata', 'val')
    if val_metadata:
        counts['val'] = copy_val_metadata(val_metadata, val_folder,
                                          'ImageNetV2', ImageNetFormatError,
                                          len(wnids))
        val_source = f'ImageNetV2, its metadata copied from {val_metadata}'
    elif osp.isdir(val_folder):
        val_source = (f'not written (no --val-metadata); {val_folder} '
                      'existed already and was left as it is, unchecked')
    else:
        val_source = ('NONE written (no --val-metadata): the protocol\'s val '
                      'is ImageNetV2 with boxes; rerun with --val-metadata '
                      'ImageNetV2/metadata/val')
    for split, files in lines.items():
        for file_name, content in files.items():
            write_lines(osp.join(out_dir, 'metadata', split,
                                 f'{file_name}.txt'), content)
    write_lines(osp.join(out_dir, 'metadata', 'class_names.txt'),
                [names[w] for w in wnids] if names else wnids)
    write_lines(osp.join(out_dir, 'metadata', 'README.txt'), [
        'ILSVRC2012 metadata written by tools/dataset_converters/'
        f'imagenet.py from {osp.abspath(root)} (image paths relative to it)',
        f'classes: the {len(wnids)} sorted folder names of train/ (0-based); '
        'class_names.txt: ' + (f'names from {synsets}' if names
                               else 'the wnids'),
        'train: every image of train/<wnid>/, no boxes',
        'test: the official validation images of val/, boxes from the XMLs '
        f'of {osp.abspath(val_xml)}',
        f'val: {val_source}',
        'boxes: VOC 1-based inclusive xmin-1, ymin-1, xmax-1, ymax-1 '
        f'(0-based inclusive pixels), clipped to the image: {clipped} of '
        f'{boxes_written} boxes clipped',
        'image sizes: from the file headers, EXIF orientation applied',
    ] + [f'{s}: {counts[s]} images' for s in SPLITS
         if counts[s] is not None])
    return counts


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('root', help='the ILSVRC2012 folder, with train/ '
                        'and val/')
    parser.add_argument('--out-dir', help='default: ROOT')
    parser.add_argument('--val-xml', help='the folder of the validation '
                        'XMLs (default: ROOT/val)')
    parser.add_argument('--synsets', help='LOC_synset_mapping.txt: '
                        '"<wnid> <name>" per line, for class_names.txt')
    parser.add_argument('--val-metadata',
                        help="ImageNetV2's metadata/val folder")
    args = parser.parse_args(argv)
    counts = convert(args.root, args.out_dir, args.val_xml, args.synsets,
                     args.val_metadata)
    print(', '.join(f'{s}: none' if n is None else f'{s}: {n} images'
                    for s, n in counts.items()))
    return counts


if __name__ == '__main__':
    main()
