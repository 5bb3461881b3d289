"""Verify, and complete, an OpenImages30k tree (Choe et al., CVPR 2020,
"wsolevaluation") for fcam_mm.

``python tools/dataset_converters/openimages.py OpenImages
[--metadata DIR] [--img-prefix P] [--mask-prefix P]
[--splits train val test] [--num-classes N] [--fix-sizes]``

Input: the OpenImages30k release of wsolevaluation, in ``OpenImages`` (the
``data_root`` of ``configs/_base_/datasets/openimages.py``):

- the images, e.g. ``{train,val,test}/<class folder>/<image>.jpg``, and the
  mask and ignore PNGs of val and test, at the paths the metadata lists
  relative to ``OpenImages/<img-prefix>`` and ``OpenImages/<mask-prefix>``
  (both default to ``OpenImages`` itself, as in the config);
- ``DIR/{train,val,test}/`` (default ``DIR``: ``OpenImages/metadata``)
  in the format of docs/datasets.md: ``image_ids.txt``,
  ``class_labels.txt``, ``image_sizes.txt`` and, for val and test,
  ``localization.txt`` with mask lines ``path,mask_png,ignore_png`` (the
  ignore PNG on an image's first line only). train's ``localization.txt``
  is optional (the train dataset reads none) and checked when present.

The files are parsed with the readers of ``fcam_mm.datasets.metadata``
(those the datasets use), and then checked:

- every image, mask and ignore PNG listed exists and is readable;
- every image of ``image_ids.txt`` has a class label, a size and (val,
  test) a mask line, and no file lists an image that ``image_ids.txt``
  does not; labels are below ``--num-classes`` when it is given;
- each ``image_sizes.txt`` line equals the image's size as the loader
  decodes it (read from the header, EXIF orientation applied);
- each mask and ignore PNG has the image's size (PNGs are read as stored).

All problems are collected, each with its file and 1-based line, and
reported together (:class:`OpenImagesFormatError`, exit status 1 from the
command line). A file that does not parse is reported with its first bad
line (the reader stops there), and the checks that need that file are not
run for its split until it is fixed; the report says which.

Completion, only when no problem is left: a missing ``image_sizes.txt`` is
written from the image headers, in ``image_ids.txt`` order; with
``--fix-sizes`` each wrong ``image_sizes.txt`` line is rewritten with the
real size (other lines kept as they are), which is otherwise a problem.
Nothing is written while any problem remains. Files in the tree that no
metadata lists are not looked at.
"""
import argparse
import os.path as osp
import sys

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, REPO)
from fcam_mm.datasets.conversion import (ConversionError,  # noqa: E402
                                         image_size, size_note)
from fcam_mm.datasets.file_writing import write_lines  # noqa: E402
from fcam_mm.datasets.metadata import (MetadataError,  # noqa: E402
                                       iter_metadata_lines,
                                       read_class_labels, read_image_ids,
                                       read_image_sizes, read_masks)

SPLITS = ('train', 'val', 'test')
MASKED_SPLITS = ('val', 'test')


class OpenImagesFormatError(ConversionError):
    """The problems found in an OpenImages30k tree; ``problems`` lists them,
    each naming its file (and line), ``notes`` the checks that files which
    did not parse held back."""

    def __init__(self, problems, notes=()):
        self.problems, self.notes = list(problems), list(notes)
        super().__init__(
            f'{len(self.problems)} problem(s), nothing written:\n'
            + '\n'.join(self.problems + [f'note: {n}' for n in self.notes]))


class SplitCheck:
    """The checks of one split folder; ``problems`` and ``notes`` (checks
    not run) collect what they find, ``writes`` what completion would
    write (``{path: lines}``)."""

    def __init__(self, folder, split, img_root, mask_root, num_classes,
                 fix_sizes):
        self.folder, self.split = folder, split
        self.img_root, self.mask_root = img_root, mask_root
        self.num_classes, self.fix_sizes = num_classes, fix_sizes
        self.problems, self.notes, self.writes = [], [], {}
        self.counts = dict(images=0, masks=0, sizes_written=0,
                           sizes_fixed=0)

    def path(self, name):
        return osp.join(self.folder, f'{name}.txt')

    def parse(self, reader, name, *args):
        """``reader(path, *args)``, or None with the reader's message (file
        and line) recorded as a problem."""
        try:
            return reader(self.path(name), *args)
        except MetadataError as e:
            self.problems.append(str(e))
            return None

    def not_run(self, what, name):
        self.notes.append(f'{self.folder}: {what} not checked until '
                          f'{name}.txt parses')

    def run(self):
        if not osp.isdir(self.folder):
            self.problems.append(f'{self.folder}: missing split folder')
            return self
        ids = self.parse(read_image_ids, 'image_ids')
        labels = self.parse(read_class_labels, 'class_labels',
                            self.num_classes)
        sizes_path = self.path('image_sizes')
        has_sizes = osp.isfile(sizes_path)
        sizes = self.parse(read_image_sizes, 'image_sizes') if has_sizes \
            else None
        masks_path = self.path('localization')
        masks = None
        if osp.isfile(masks_path):
            masks = self.parse(read_masks, 'localization')
        elif self.split in MASKED_SPLITS:
            self.problems.append(f'{masks_path}: missing (the {self.split} '
                                 'split is evaluated on its masks)')
        if ids is None:
            self.not_run('images, labels, sizes and masks', 'image_ids')
            return self
        self.counts['images'] = len(ids)
        if labels is not None:
            self.coverage(ids, labels, 'class label')
        else:
            self.not_run('the labels\' coverage', 'class_labels')
        real = self.check_images(ids)
        if not has_sizes:
            if len(real) == len(ids):
                self.writes[sizes_path] = [f'{i},{w},{h}' for i, (w, h)
                                           in ((i, real[i]) for i in ids)]
                self.counts['sizes_written'] = len(ids)
        elif sizes is not None:
            self.coverage(ids, sizes, 'image size')
            self.check_sizes(sizes, real)
        else:
            self.not_run('the image sizes', 'image_sizes')
        if masks is not None:
            self.coverage(ids, masks, 'mask')
            self.check_masks(real)
        elif osp.isfile(masks_path):
            self.not_run('the mask files', 'localization')
        return self

    def coverage(self, ids, table, what):
        """Every image of ``ids`` in ``table`` and nothing else; one problem
        per image, naming the line."""
        listed = set(ids)
        for image_id, line in table.lines.items():
            if image_id not in listed:
                self.problems.append(f'{table.path}:{line}: image '
                                     f'{image_id!r} is not in image_ids.txt')
        for image_id in ids:
            if image_id not in table:
                self.problems.append(
                    f'{ids.path}:{ids.lines[image_id]}: no {what} for '
                    f'{image_id!r} in {osp.basename(table.path)}')

    def check_images(self, ids):
        """``{image_id: (width, height)}`` of the readable images."""
        real = {}
        for image_id in ids:
            try:
                real[image_id] = image_size(osp.join(self.img_root,
                                                     image_id))
            except ConversionError as e:  # names the file; add the line
                self.problems.append(
                    f'{ids.path}:{ids.lines[image_id]}: {e}')
        return real

    def check_sizes(self, sizes, real):
        fixed = {}
        for image_id, (width, height) in sizes.items():
            if image_id not in real or real[image_id] == (width, height):
                continue
            line = sizes.lines[image_id]
            true_w, true_h = real[image_id]
            if self.fix_sizes:
                fixed[line] = f'{image_id},{true_w},{true_h}'
                continue
            note = size_note(osp.join(self.img_root, image_id),
                             real[image_id])
            self.problems.append(
                f'{sizes.path}:{line}: {image_id!r} is {width}x{height} '
                f'here, but the image is {true_w}x{true_h}{note} '
                '(--fix-sizes rewrites the line)')
        if fixed:
            self.writes[sizes.path] = replace_lines(sizes.path, fixed)
            self.counts['sizes_fixed'] = len(fixed)

    def check_masks(self, real):
        path = self.path('localization')
        for line, (image_id, mask, ignore) in iter_metadata_lines(path, 3):
            for kind, name in (('mask', mask), ('ignore PNG', ignore)):
                if not name:
                    continue
                self.counts['masks'] += kind == 'mask'
                try:
                    size = image_size(osp.join(self.mask_root, name),
                                      oriented=False)
                except ConversionError as e:
                    self.problems.append(f'{path}:{line}: {kind}: {e}')
                    continue
                if image_id in real and size != real[image_id]:
                    self.problems.append(
                        f'{path}:{line}: {kind} {name} is {size[0]}x'
                        f'{size[1]}, but its image {image_id!r} is '
                        f'{real[image_id][0]}x{real[image_id][1]}')


def replace_lines(path, replacements):
    """The lines of ``path`` with ``{line number: text}`` replaced (lines
    numbered as the metadata readers number them)."""
    with open(path, 'rb') as f:
        data = f.read()
    lines = [raw.decode('utf-8-sig' if n == 1 else 'utf-8')
             for n, raw in enumerate(data.splitlines(), 1)]
    return [replacements.get(n, line) for n, line in enumerate(lines, 1)]


def check(root, metadata=None, img_prefix='', mask_prefix='',
          splits=SPLITS, num_classes=None, fix_sizes=False):
    """Check the tree; raise :class:`OpenImagesFormatError` with every
    problem, else write the completions and return per-split counts."""
    metadata = metadata or osp.join(root, 'metadata')
    checks = [SplitCheck(osp.join(metadata, split), split,
                         osp.join(root, img_prefix),
                         osp.join(root, mask_prefix), num_classes,
                         fix_sizes).run() for split in splits]
    problems = [p for c in checks for p in c.problems]
    notes = [n for c in checks for n in c.notes]
    if problems:
        raise OpenImagesFormatError(problems, notes)
    for c in checks:
        for path, lines in c.writes.items():
            write_lines(path, lines)
    return {c.split: c.counts for c in checks}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('root', help='the OpenImages folder (data_root)')
    parser.add_argument('--metadata', help='default: ROOT/metadata')
    parser.add_argument('--img-prefix', default='',
                        help='image paths are relative to ROOT/IMG_PREFIX')
    parser.add_argument('--mask-prefix', default='',
                        help='mask paths are relative to ROOT/MASK_PREFIX')
    parser.add_argument('--splits', nargs='+', default=list(SPLITS),
                        choices=SPLITS)
    parser.add_argument('--num-classes', type=int,
                        help='check that labels are below it (100 for '
                        'OpenImages30k)')
    parser.add_argument('--fix-sizes', action='store_true',
                        help='rewrite wrong image_sizes.txt lines')
    args = parser.parse_args(argv)
    counts = check(args.root, args.metadata, args.img_prefix,
                   args.mask_prefix, args.splits, args.num_classes,
                   args.fix_sizes)
    for split, c in counts.items():
        done = []
        if c['sizes_written']:
            done.append('image_sizes.txt written')
        if c['sizes_fixed']:
            done.append(f'{c["sizes_fixed"]} image_sizes.txt line(s) fixed')
        print(f'{split}: {c["images"]} images, {c["masks"]} masks: OK'
              + ''.join(f'; {d}' for d in done))
    return counts


if __name__ == '__main__':
    try:
        main()
    except OpenImagesFormatError as e:
        print(e, file=sys.stderr)
        sys.exit(1)
