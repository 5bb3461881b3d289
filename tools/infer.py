"""Localize images with a trained model.

    python tools/infer.py SOURCE MODEL [--checkpoint CKPT] [--out-dir DIR]

SOURCE: an image, a folder or a glob (quote it); MODEL: a config file or a
model name from model-index.yml (whose weights are then used unless
--checkpoint is given). Writes DIR/predictions.jsonl (classes, scores, box,
mask as COCO RLE) and DIR/vis/*.png overlays.

In a folder or glob, entries that cannot be localized (symlink loops, broken
links, FIFOs, non-images whatever their extension, images over
--max-pixels, refused from their header before decoding) are skipped, one
warning each, and counted; see docs/inference.md, "Untrusted inputs".
"""
import argparse
import os.path as osp
import sys

from mmengine.config import DictAction

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
from fcam_mm.apis import init_localizer  # noqa: E402
from fcam_mm.apis.batch_inference import localize_images  # noqa: E402
from fcam_mm.datasets.image_inputs import DEFAULT_MAX_PIXELS  # noqa: E402


def pixel_count(text):
    """An int, also written 1e8 or 100_000_000."""
    try:
        return int(text)
    except ValueError:
        value = float(text)
        if not value.is_integer():
            raise argparse.ArgumentTypeError(f'not a whole number: {text}')
        return int(value)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Localize images (WSOL)')
    parser.add_argument('source', help='an image, a folder or a glob')
    parser.add_argument('model', help='config file or model-zoo name')
    parser.add_argument(
        '--checkpoint', help='checkpoint path, URL or model name (default: '
        'the weights of MODEL when it is a model name)')
    parser.add_argument('--out-dir', default='infer_out',
                        help='where predictions and overlays go')
    parser.add_argument(
        '--out', help='predictions file (.jsonl: one record per line, '
        '.json: one list); default OUT_DIR/predictions.jsonl')
    parser.add_argument('--no-overlay', action='store_true',
                        help='do not write overlay PNGs')
    parser.add_argument('--device', default='cpu',
                        help='e.g. cpu, cuda, cuda:1')
    parser.add_argument('--batch-size', type=int, default=8)
    parser.add_argument('--threshold', type=float, default=0.5,
                        help='tau of the box and the mask on the min-max '
                        'normalised map')
    parser.add_argument('--topk', type=int, default=5)
    parser.add_argument('--recursive', action='store_true',
                        help='include sub-folders of a folder (and ** in '
                        'globs)')
    parser.add_argument(
        '--max-pixels', type=pixel_count, default=DEFAULT_MAX_PIXELS,
        help='skip images whose header declares more pixels (W x H), '
        'before decoding them (default %(default)s, PIL\'s own bomb limit; '
        '0: no cap, for trusted inputs)')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override config settings, e.g. model.head.num_classes=3')
    args = parser.parse_args(argv)
    if not 0 <= args.threshold < 1:
        parser.error(f'--threshold must be in [0, 1), got {args.threshold}')
    if args.batch_size < 1:
        parser.error(f'--batch-size must be >= 1, got {args.batch_size}')
    if args.max_pixels < 0:
        parser.error(f'--max-pixels must be >= 0, got {args.max_pixels}')
    if args.topk < 1:
        parser.error(f'--topk must be >= 1, got {args.topk}')
    if args.checkpoint is None and osp.isfile(args.model):
        parser.error(f'{args.model} is a config file: --checkpoint is '
                     'needed (without it the weights would be random)')
    return args


def main(argv=None):
    args = parse_args(argv)
    model = init_localizer(args.model, args.checkpoint, device=args.device,
                           cfg_options=args.cfg_options)
    out_file = args.out or osp.join(args.out_dir, 'predictions.jsonl')
    overlay_dir = None if args.no_overlay else osp.join(args.out_dir, 'vis')
    return localize_images(
        model, args.source, out_file=out_file, overlay_dir=overlay_dir,
        batch_size=args.batch_size, threshold=args.threshold,
        topk=args.topk, recursive=args.recursive,
        max_pixels=args.max_pixels or None)


if __name__ == '__main__':
    main()
