"""How clean the F-CAM seeds of a classifier are on a split with masks.

``python tools/analysis_tools/seed_quality.py CONFIG CHECKPOINT [--split
val] [--n-neg 0.1 0.3 0.5 0.7] [--cfg-options ...]``

Prints, for each n⁻, the share of C⁺ on the objects, the share of the
objects C⁺ covers, and the share of C⁻ on the objects (see
``fcam_mm.models.utils.seed_quality``). The checkpoint may be a stage-1
(``WSOLLocalizer``) or an F-CAM one; its CAM method is the config's.
"""
import argparse
import json
import os.path as osp
import sys

from mmengine.config import Config, DictAction

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(
    __file__)))))
from fcam_mm.apis import init_localizer  # noqa: E402
from fcam_mm.models.utils.seed_quality import measure_seed_quality  # noqa
from fcam_mm.visualization.localization_samples import build_split  # noqa


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('--split', default='val', choices=['val', 'test'])
    parser.add_argument('--n-neg', type=float, nargs='+',
                        default=[0.1, 0.3, 0.5, 0.7])
    parser.add_argument('--erode-kernel', type=int, default=11)
    parser.add_argument('--batch-size', type=int, default=16)
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--out', help='write the figures as JSON')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    args = parser.parse_args(argv)
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    model = init_localizer(cfg, args.checkpoint, device=args.device)
    dataset = build_split(cfg, args.split)
    rows = measure_seed_quality(model, dataset, args.n_neg,
                                erode_kernel=args.erode_kernel,
                                batch_size=args.batch_size)
    print(f'{args.split} split, {len(dataset)} images; object pixels: '
          f'{100 * rows[0]["object_fraction"]:.1f} % of the image')
    print('| n⁻ | C⁺ on objects | objects in C⁺ | C⁻ on objects | '
          'images with C⁻ on the object |')
    print('|---|---|---|---|---|')
    for row in rows:
        print(f'| {row["n_neg"]:g} | {100 * row["pos_precision"]:.1f} % | '
              f'{100 * row["pos_coverage"]:.1f} % | '
              f'{100 * row["neg_error"]:.1f} % | '
              f'{100 * row["neg_error_images"]:.0f} % |')
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(rows, f, indent=2)
    return rows


if __name__ == '__main__':
    main()
