"""Generate the embedded synthetic WSOL dataset (wsolevaluation layout).

    python tools/dataset_converters/make_synthetic.py data/synthetic \\
        [--seed 0] [--num-classes 10] [--train-per-class 80] \\
        [--val-per-class 10] [--test-per-class 30] [--preview PATH] \\
        [--option KNOB=VALUE ...] [--overwrite]

Same seed and options give byte-identical files. ``--option`` sets any knob
of ``fcam_mm.datasets.synthetic.generate_synthetic_dataset`` (values are
Python literals, e.g. ``--option object_area_range=(0.1,0.4)
decoy_prob=0``); docs/synthetic_dataset.md lists them.
"""
import argparse
import ast
import os.path as osp
import sys

try:
    from fcam_mm.datasets.synthetic import (MAX_CLASSES,
                                            generate_synthetic_dataset,
                                            make_preview)
except ImportError:  # run from a checkout without installing the package
    sys.path.insert(
        0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
    from fcam_mm.datasets.synthetic import (MAX_CLASSES,
                                            generate_synthetic_dataset,
                                            make_preview)


def parse_option(text):
    """``KEY=VALUE`` with VALUE a Python literal (a bare word stays str)."""
    key, sep, value = text.partition('=')
    if not sep or not key:
        raise argparse.ArgumentTypeError(
            f'expected KEY=VALUE, got {text!r}')
    try:
        parsed = ast.literal_eval(value)
    except (ValueError, SyntaxError):
        parsed = value
    return key.strip(), parsed


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Generate the synthetic WSOL dataset (boxes and masks).')
    parser.add_argument('out_dir', help='output folder, e.g. data/synthetic')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--num-classes', type=int, default=10,
                        help=f'1..{MAX_CLASSES} (default 10)')
    parser.add_argument('--train-per-class', type=int, default=80)
    parser.add_argument('--val-per-class', type=int, default=10)
    parser.add_argument('--test-per-class', type=int, default=30)
    parser.add_argument('--preview', metavar='PATH',
                        help='also write a mosaic PNG of some images with '
                        'GT boxes (green) and mask outlines (white)')
    parser.add_argument('--preview-split', default='val',
                        choices=('train', 'val', 'test'))
    parser.add_argument('--preview-images', type=int, default=24)
    parser.add_argument('--option', nargs='+', type=parse_option, default=[],
                        action='extend',
                        metavar='KNOB=VALUE',
                        help='set generator knobs (Python literals)')
    parser.add_argument('--overwrite', action='store_true',
                        help='replace an earlier generation in out_dir')
    return parser.parse_args(argv)


def format_summary(summary):
    lines = [f"synthetic WSOL dataset in {summary['out_dir']} "
             f"(seed {summary['seed']}, {summary['seconds']:.1f} s)"]
    lines.append('images: ' + ', '.join(
        f'{split} {count}' for split, count in summary['counts'].items()))
    lines.append(f"classes ({summary['num_classes']}): " +
                 ', '.join(summary['class_names']))
    lines.append('image size: W {}-{}, H {}-{}'.format(
        *summary['image_width'], *summary['image_height']))
    for key in ('object_area_fraction', 'part_fraction_of_object',
                'body_contrast'):
        stats = summary[key]
        lines.append(f'{key}: ' + ', '.join(
            f'{name} {value:g}' for name, value in stats.items()))
    lines.append(f"touching the border: "
                 f"{100 * summary['touches_border_fraction']:.1f}% of "
                 f"images; distractors per image: "
                 f"{summary['mean_distractors']:g}; images with decoys: "
                 f"{100 * summary['decoy_image_fraction']:.1f}%")
    return '\n'.join(lines)


RESERVED_OPTIONS = ('out_dir', 'seed', 'num_classes', 'per_class',
                    'overwrite')


def main(argv=None):
    args = parse_args(argv)
    options = dict(args.option)
    clashes = sorted(set(options) & set(RESERVED_OPTIONS))
    if clashes:
        raise SystemExit(f'make_synthetic.py: error: --option {clashes[0]} '
                         'has its own command-line flag; use that instead')
    summary = generate_synthetic_dataset(
        args.out_dir,
        seed=args.seed,
        num_classes=args.num_classes,
        per_class=dict(train=args.train_per_class, val=args.val_per_class,
                       test=args.test_per_class),
        overwrite=args.overwrite,
        **options)
    print(format_summary(summary))
    if args.preview:
        make_preview(args.out_dir, args.preview, split=args.preview_split,
                     num_images=args.preview_images)
        print(f'preview written to {args.preview}')
    return summary


if __name__ == '__main__':
    try:
        main()
    except (ValueError, TypeError, FileExistsError) as error:
        # bad arguments: the message says what to change; no traceback
        sys.exit(f'make_synthetic.py: error: {error}')
