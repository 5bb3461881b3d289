"""How clean the F-CAM seeds of a classifier are on a split with masks.

``python tools/analysis_tools/seed_quality.py CONFIG CHECKPOINT [--split
val] [--n-neg 0.1 0.3 0.5 0.7] [--crf [--crf-sigma-xy 10 100]
[--crf-sigma-rgb 15 30]] [--cfg-options ...]``

Prints, for each n⁻, the share of C⁺ on the objects, the share of the
objects C⁺ covers, and the share of C⁻ on the objects (see
``fcam_mm.models.utils.seed_quality``). With ``--crf``, also whether the
dense CRF's energy prefers the GT object to C⁺, per image, for the
config's ``model.crf_loss`` (``DenseCRFLoss`` defaults if it has none) and
every σ_xy × σ_rgb given (see ``fcam_mm.models.utils.crf_preference``).
The checkpoint may be a stage-1 (``WSOLLocalizer``) or an F-CAM one; its
CAM method is the config's.
"""
import argparse
import json
import os.path as osp
import sys

from mmengine.config import Config, DictAction

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(
    __file__)))))
from fcam_mm.apis import init_localizer  # noqa: E402
from fcam_mm.models.utils.crf_preference import \
    measure_crf_preference  # noqa: E402
from fcam_mm.registry import MODELS  # noqa: E402
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
    parser.add_argument('--crf', action='store_true',
                        help='also compare the CRF energy of the GT object '
                        'with that of C⁺')
    parser.add_argument('--crf-sigma-xy', type=float, nargs='+',
                        help="σ_xy values (default: the config's)")
    parser.add_argument('--crf-sigma-rgb', type=float, nargs='+',
                        help="σ_rgb values (default: the config's)")
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
    print('| n⁻ | C⁺ on objects | objects in C⁺ (pooled; per image: '
          'mean, median) | C⁻ on objects | images with C⁻ on the object |')
    print('|---|---|---|---|---|')
    for row in rows:
        print(f'| {row["n_neg"]:g} | {100 * row["pos_precision"]:.1f} % | '
              f'{100 * row["pos_coverage"]:.1f} % '
              f'({100 * row["pos_coverage_image_mean"]:.1f} %, '
              f'{100 * row["pos_coverage_image_median"]:.1f} %) | '
              f'{100 * row["neg_error"]:.1f} % | '
              f'{100 * row["neg_error_images"]:.0f} % |')
    result = rows
    if args.crf:
        crf_rows = measure_crf_preference(
            model, dataset, crf_losses(cfg, args.crf_sigma_xy,
                                       args.crf_sigma_rgb),
            erode_kernel=args.erode_kernel, batch_size=args.batch_size)
        print(f'\nCRF energy R of the GT object vs C⁺ ({args.split}, '
              f'{crf_rows[0]["images"]} images with a C⁺, '
              f'{crf_rows[0]["images_without_region"]} without)')
        print('| CRF | images with R(object) < R(C⁺) | median R(object) / '
              'R(C⁺) |')
        print('|---|---|---|')
        for row in crf_rows:
            print(f'| {row["name"]} | {100 * row["prefers_object"]:.0f} % | '
                  f'{row["median_ratio"]:.2f} |')
        print(f'background pixels coloured like the object (within 30 of '
              f'its mean colour, 2 σ_rgb): median '
              f'{100 * crf_rows[0]["colour_overlap_median"]:.1f} % of an '
              f'image\'s background; above 10 % in '
              f'{100 * crf_rows[0]["colour_overlap_over_10pct"]:.0f} % of '
              'the images')
        result = dict(seeds=rows, crf=crf_rows)
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(result, f, indent=2)
    return result


def crf_losses(cfg, sigmas_xy=None, sigmas_rgb=None):
    """name → DenseCRFLoss for the config's CRF (or the defaults) with each
    σ_xy × σ_rgb combination (the config's σ where a list is not given)."""
    base = dict(cfg.model.get('crf_loss') or dict(type='DenseCRFLoss'))
    losses = {}
    for sigma_xy in sigmas_xy or [base.get('sigma_xy', 100.0)]:
        for sigma_rgb in sigmas_rgb or [base.get('sigma_rgb', 15.0)]:
            loss_cfg = dict(base, sigma_xy=sigma_xy, sigma_rgb=sigma_rgb)
            losses[f'σ_xy {sigma_xy:g}, σ_rgb {sigma_rgb:g}, scale '
                   f'{loss_cfg.get("scale_factor", 1.0):g}'] = \
                MODELS.build(loss_cfg)
    return losses


if __name__ == '__main__':
    main()
