"""Look at a config's dataset splits before training on them.

``python tools/misc/browse_dataset.py CONFIG [--splits train val test]
[--num-samples 8] [--output PNG] [--decode] [--seed 0]
[--cfg-options ...]``

For each split (default: every ``{split}_dataloader`` of the config):

- prints a summary: images, classes, images per class (min / median / max
  and the classes with the fewest), image sizes (``image_sizes.txt``),
  boxes per image and box area as a share of the image, images with masks
  and with an ignore region, and every file problem, each named by the
  metadata file and line that lists the file: a missing or unreadable
  image, an image whose size is not the one of ``image_sizes.txt``, a box
  outside its image, a missing mask PNG or one whose size is not its
  image's (``fcam_mm.datasets.dataset_summary``). Image sizes are read
  from the file headers; ``--decode`` also decodes every image and mask.
  The dataset is built with ``check_files=False`` so that every missing
  file is listed; malformed metadata stops that split's build with the
  reader's ``MetadataError`` (file and line), printed as it is.
- draws ``--num-samples`` images spread over the split, as the model
  sees them — after the split's pipeline, before packing (resized,
  cropped, flipped) — with the ground truth carried through the same
  transforms (``fcam_mm.visualization.dataset_browser``): GT boxes green,
  mask outlines white, ignore regions greyed; class name and image id
  under each. One PNG, one row per split (``--output``, default
  ``work_dirs/browse_dataset/<config name>.png``).

The exit status is 1 when any problem was found (or a split could not be
built), 0 otherwise.
"""
import argparse
import os
import os.path as osp
import random
import sys

import numpy as np
from mmengine.config import Config, DictAction

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(
    __file__)))))
from fcam_mm.datasets.dataset_summary import (  # noqa: E402
    build_split_unchecked, scan_split)
from fcam_mm.datasets.file_writing import imwrite  # noqa: E402
from fcam_mm.datasets.metadata import MetadataError  # noqa: E402
from fcam_mm.utils import register_all_modules  # noqa: E402
from fcam_mm.visualization.dataset_browser import (  # noqa: E402
    compose_grid, pipeline_steps, pipeline_view)
from fcam_mm.visualization.localization_samples import (  # noqa: E402
    SPLITS, spread_indices)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Summarise, check and draw the dataset splits of a '
        'config')
    parser.add_argument('config', help='config file')
    parser.add_argument('--splits', nargs='+', choices=SPLITS,
                        help='splits to browse (default: every split the '
                        'config has)')
    parser.add_argument('--num-samples', type=int, default=8,
                        help='images drawn per split, spread over it '
                        '(default 8; 0: no picture)')
    parser.add_argument('--output',
                        help='the PNG (default work_dirs/browse_dataset/'
                        '<config name>.png)')
    parser.add_argument('--decode', action='store_true',
                        help='decode every image and mask (default: read '
                        'the sizes from the file headers only)')
    parser.add_argument('--seed', type=int, default=0,
                        help='seed of the random transforms (crop, flip) '
                        'of the drawn samples (default 0)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, e.g. '
                        'test_dataloader.dataset.data_root=data/other/')
    args = parser.parse_args(argv)
    if args.num_samples < 0:
        parser.error('--num-samples must be >= 0')
    return args


def keeps_exif_orientation(dataset) -> bool:
    """Whether the pipeline's loader applies EXIF orientation (OpenCV's
    colour modes do; ``color_type='unchanged'`` does not)."""
    first = dataset.pipeline.transforms[:1]
    return not first or getattr(first[0], 'color_type',
                                'color') != 'unchanged'


def main(argv=None) -> int:
    args = parse_args(argv)
    register_all_modules()
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    splits = args.splits or [
        s for s in SPLITS if 'dataset' in (cfg.get(f'{s}_dataloader') or {})
    ]
    missing = [s for s in splits
               if 'dataset' not in (cfg.get(f'{s}_dataloader') or {})]
    if missing or not splits:
        raise SystemExit(f'{args.config} has no {"/".join(missing) or "any"}'
                         ' split (a {split}_dataloader with a dataset)')
    output = args.output or osp.join(
        'work_dirs', 'browse_dataset',
        osp.splitext(osp.basename(args.config))[0] + '.png')

    failed = False
    rows, class_names, drawn = [], [], []
    for split in splits:
        try:
            dataset = build_split_unchecked(cfg, split)
        except MetadataError as e:
            print(f'{split}: cannot build the dataset: {e}\n')
            failed = True
            continue
        summary = scan_split(dataset, split, decode=args.decode,
                             exif_orientation=keeps_exif_orientation(dataset))
        print('\n'.join(summary.lines()) + '\n')
        failed = failed or bool(summary.problems)
        if args.num_samples:
            random.seed(args.seed)
            np.random.seed(args.seed)
            indices = spread_indices(len(dataset), args.num_samples)
            views = [pipeline_view(dataset, i) for i in indices]
            steps = ' > '.join(s for s in pipeline_steps(dataset)
                               if not s.startswith('Pack'))
            drawn.append(split)
            rows.append((f'{split}: {len(indices)} of {len(dataset)} images '
                         f'after {steps}', views))
            class_names.append(summary.classes)
    if rows:
        os.makedirs(osp.dirname(osp.abspath(output)), exist_ok=True)
        imwrite(output, compose_grid(rows, class_names)[..., ::-1])
        print(f'{output}: one row per split ({", ".join(drawn)}), images '
              'after the pipeline with the GT mapped into them: boxes '
              'green, mask outlines white, ignore regions grey')
    if failed:
        print('problems found (listed above)')
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
