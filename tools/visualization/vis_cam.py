"""Baseline CAM vs F-CAM side by side, with their localization (the
paper's Fig. 3: GT box green, predicted box red; Fig. 4 for mask datasets:
TP red, FP blue, FN green).

Images of the config's split, with their ground truth (GT-known maps)::

    python tools/visualization/vis_cam.py CONFIG CHECKPOINT --num 8
    python tools/visualization/vis_cam.py CONFIG CHECKPOINT --indices 0 7 \\
        --style mask --threshold 0.8

Plain images (no ground truth; maps of the predicted class)::

    python tools/visualization/vis_cam.py CONFIG CHECKPOINT \\
        --images bird.jpg photos/ --threshold 0.3

tau: ``--threshold``, else the one the protocol selects on ``--tau-split``
(val by default): the first tau of the best MaxBoxAcc (box style) or of the
best pixel F1 (mask style), per map.
"""
import argparse
import os.path as osp
import sys

from mmengine.config import DictAction

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(
    osp.abspath(__file__)))))
from fcam_mm.visualization.wsol_visualizer import STYLES  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Draw CAM / F-CAM maps and their localization')
    parser.add_argument('config', help='config file')
    parser.add_argument('checkpoint', help='checkpoint: a path, an http(s) URL or a model name of '
                        'model-index.yml')
    source = parser.add_mutually_exclusive_group()
    source.add_argument('--images', nargs='+', metavar='PATH',
                        help='image files or folders (no ground truth)')
    source.add_argument('--indices', nargs='+', type=int,
                        help='indices of images of --split')
    parser.add_argument('--num', type=int, default=8,
                        help='without --images/--indices: this many images '
                        'spread over --split (default 8)')
    parser.add_argument('--split', default='test', choices=['val', 'test'],
                        help='the split images come from (default test)')
    parser.add_argument('--threshold', type=float,
                        help='tau for every map (default: selected on '
                        '--tau-split)')
    parser.add_argument('--tau-split', default='val', choices=['val', 'test'],
                        help='split on which tau is selected (default val)')
    parser.add_argument('--style', default='auto', choices=STYLES,
                        help='box (Fig. 3), mask (Fig. 4: TP/FP/FN) or auto '
                        '(box unless the images have masks only)')
    parser.add_argument('--map-keys', nargs='+', default=['cam', 'fcam'],
                        help='maps to draw, one row each (default cam fcam)')
    parser.add_argument('--out-dir', default='work_dirs/vis_cam',
                        help='where the PNGs go (default work_dirs/vis_cam)')
    parser.add_argument('--batch-size', type=int, default=8)
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--show', action='store_true',
                        help='also show each picture in a window')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings')
    args = parser.parse_args(argv)
    if args.threshold is not None and not 0 <= args.threshold < 1:
        parser.error(f'--threshold must be in [0, 1), got {args.threshold}')
    if args.num < 1 or args.batch_size < 1:
        parser.error('--num and --batch-size must be positive')
    return args


def main(argv=None):
    args = parse_args(argv)
    from mmengine.logging import print_log

    from fcam_mm.apis import init_localizer
    from fcam_mm.datasets.metadata import MetadataError
    from fcam_mm.visualization import WSOLVisualizer
    from fcam_mm.visualization.localization_samples import (
        build_split, draw_samples, expand_image_paths, predict_images,
        predict_split, select_thresholds, spread_indices)
    from fcam_mm.visualization.wsol_visualizer import resolve_style

    model = init_localizer(args.config, args.checkpoint, device=args.device,
                           cfg_options=args.cfg_options)
    dataset_meta = model.dataset_meta
    if args.images:
        samples = list(predict_images(model, expand_image_paths(args.images),
                                      args.batch_size))
    else:
        dataset = build_split(model.cfg, args.split)
        dataset_meta = dataset_meta or dataset.metainfo
        indices = args.indices or spread_indices(len(dataset), args.num)
        samples = list(predict_split(model, dataset, indices,
                                     args.batch_size))
    style = resolve_style(samples[0], args.style)
    keys = [k for k in args.map_keys if k in samples[0]]
    if not keys:
        raise SystemExit(f'the model outputs none of the maps {args.map_keys}'
                         f' (it gives {sorted(samples[0].keys())})')
    if args.threshold is not None:
        thresholds = args.threshold
    else:
        try:
            thresholds = select_thresholds(model, model.cfg, keys, style,
                                           args.tau_split, args.batch_size)
        except (OSError, MetadataError) as e:  # the split is not here
            raise SystemExit(
                f'cannot select tau on the {args.tau_split} split of '
                f'{args.config} ({e}); pass --threshold') from e
        chosen = ', '.join(f'{k} {v:.3f}' for k, v in thresholds.items())
        print_log(f'tau selected on the {args.tau_split} split: {chosen}',
                  logger='current')
    visualizer = WSOLVisualizer.get_instance('vis_cam')
    visualizer.dataset_meta = dataset_meta
    written = draw_samples(visualizer, samples, args.out_dir, keys,
                           thresholds, style, args.show)
    print_log(f'{len(written)} pictures ({style} style) written to '
              f'{args.out_dir}', logger='current')
    return written


if __name__ == '__main__':
    main()
