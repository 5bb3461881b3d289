"""Generate the embedded synthetic WSOL dataset (wsolevaluation layout).

    python tools/dataset_converters/make_synthetic.py data/synthetic \\
        [--preset parts_hard] [--seed 0] [--num-classes N] \\
        [--train-per-class 80] [--val-per-class 10] [--test-per-class 30] \\
        [--preview PATH] [--option KNOB=VALUE ...] [--overwrite]

Same preset, seed and options give byte-identical files. ``--preset``
chooses what the images look like (the registered presets of
``fcam_mm.datasets.synthetic.presets``; ``--help`` lists them).
``--option`` sets any knob of that preset, or ``jpeg_quality`` /
``save_part_masks`` (values are Python literals, e.g. ``--option
object_area_range=(0.1,0.4) decoy_prob=0``); docs/synthetic_dataset.md
lists them.
"""
import argparse
import ast
import os.path as osp
import sys

try:
    from fcam_mm.datasets.synthetic import (DEFAULT_PRESET,
                                            generate_synthetic_dataset,
                                            get_preset, make_preview,
                                            preset_names)
except ImportError:  # run from a checkout without installing the package
    sys.path.insert(
        0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
    from fcam_mm.datasets.synthetic import (DEFAULT_PRESET,
                                            generate_synthetic_dataset,
                                            get_preset, make_preview,
                                            preset_names)


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


def presets_help():
    """One line per registered preset: name, default mark, most classes
    (with its default knobs), description."""
    lines = []
    for name in preset_names():
        preset = get_preset(name)
        default = ', the default' if name == DEFAULT_PRESET else ''
        most = preset.max_classes(preset.knobs())
        lines.append(f'{name} (up to {most} classes with its default '
                     f'knobs{default}): {preset.description}')
    return lines


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Generate the synthetic WSOL dataset (boxes and masks).',
        epilog='presets: ' + '; '.join(presets_help()))
    parser.add_argument('out_dir', help='output folder, e.g. data/synthetic')
    parser.add_argument('--preset', default=DEFAULT_PRESET,
                        choices=preset_names(),
                        help='what the images look like (default '
                        f'{DEFAULT_PRESET}); one of ' +
                        ', '.join(preset_names()) + ', see below')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--num-classes', type=int, default=None,
                        help="1..the preset's maximum (default: the "
                        "preset's own, e.g. parts_hard 10, cub_like 12)")
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
                        help="set knobs of the preset (Python literals)")
    parser.add_argument('--overwrite', action='store_true',
                        help='replace an earlier generation in out_dir')
    return parser.parse_args(argv)


GENERIC_SUMMARY_KEYS = ('out_dir', 'preset', 'version', 'seed',
                        'num_classes', 'class_names', 'counts',
                        'image_width', 'image_height', 'stats', 'seconds')


def format_summary(summary):
    """The summary as text: counts, classes, sizes, then one line per
    statistic of the preset (a 0/1 statistic as a share of images)."""
    lines = [f"synthetic WSOL dataset in {summary['out_dir']} "
             f"(preset {summary['preset']} version {summary['version']}, "
             f"seed {summary['seed']}, {summary['seconds']:.1f} s)"]
    lines.append('images: ' + ', '.join(
        f'{split} {count}' for split, count in summary['counts'].items()))
    lines.append(f"classes ({summary['num_classes']}): " +
                 ', '.join(summary['class_names']))
    lines.append('image size: W {}-{}, H {}-{}'.format(
        *summary['image_width'], *summary['image_height']))
    for key, stats in summary['stats'].items():
        quantiles = [value for name, value in stats.items() if name != 'mean']
        if set(quantiles) <= {0, 1}:
            lines.append(f"{key}: {100 * stats['mean']:.1f}% of images")
        else:
            lines.append(f'{key}: ' + ', '.join(
                f'{name} {value:g}' for name, value in stats.items()))
    # the preset's own headline numbers (its distributions repeat 'stats')
    extras = [f'{key} {value:g}' for key, value in summary.items()
              if key not in GENERIC_SUMMARY_KEYS
              and isinstance(value, (int, float))]
    if extras:
        lines.append(f"{summary['preset']}: " + ', '.join(extras))
    return '\n'.join(lines)


RESERVED_OPTIONS = ('out_dir', 'preset', 'seed', 'num_classes', 'per_class',
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
        preset=args.preset,
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
