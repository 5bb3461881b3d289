"""Which F-CAM loss term pushes the map where (stage 2, a split with masks).

``python tools/analysis_tools/loss_gradients.py CONFIG CHECKPOINT [--split
val] [--batch-size 16] [--cfg-options ...]``

CHECKPOINT is an F-CAM checkpoint (its decoder is measured as it is: a
stage-1 checkpoint measures the untrained decoder). For every loss term of
the config's model, prints the norm of its gradient on the decoder's
parameters (and its share) and its mean push towards foreground per pixel
and the change of the margin after one SGD step on that term alone, on three
regions: object pixels inside ``C⁺``, object pixels outside ``C⁺`` (where
the map must grow) and background (``fcam_mm.models.utils.loss_gradients``).
"""
import argparse
import json
import os.path as osp
import sys

from mmengine.config import Config, DictAction

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(
    __file__)))))
from fcam_mm.apis import init_localizer  # noqa: E402
from fcam_mm.models.utils.loss_gradients import (REGIONS,  # noqa: E402
                                                 measure_loss_pushes)
from fcam_mm.visualization.localization_samples import build_split  # noqa


def format_rows(rows):
    lines = ['| term | ‖∇θ‖ | share | push / one SGD step: object in C⁺ '
             '| object outside C⁺ | background |', '|---|---|---|---|---|---|']
    for row in rows:
        cells = ' | '.join(f'{row[f"push/{r}"]:.2e} / {row[f"step/{r}"]:.2e}'
                           for r in REGIONS)
        lines.append(f'| {row["term"]} | {row["grad_norm"]:.3e} | '
                     f'{100 * row["grad_share"]:.1f} % | {cells} |')
    return '\n'.join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('--split', default='val', choices=['val', 'test'])
    parser.add_argument('--batch-size', type=int, default=16)
    parser.add_argument('--seed', type=int, default=0,
                        help='seed of the sampled seeds')
    parser.add_argument('--step-lr', type=float, default=0.01,
                        help='lr of the one-step change of the margin '
                        '(stage 2\'s lr)')
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--out', help='also write the rows as JSON')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    args = parser.parse_args(argv)
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    model = init_localizer(cfg, args.checkpoint, device=args.device)
    if not hasattr(model, 'decoder_losses'):
        raise TypeError(f'{args.config} builds a {type(model).__name__}; '
                        'loss_gradients.py measures an FCAMLocalizer')
    model.set_stage(2)
    dataset = build_split(cfg, args.split)
    rows = measure_loss_pushes(model, dataset, batch_size=args.batch_size,
                               seed=args.seed, step_lr=args.step_lr)
    print(f'{args.split} split, {len(dataset)} images; per pixel, the push '
          '(rate of increase of the foreground margin, > 0: towards '
          f'foreground) / the change of the margin after one SGD step of lr '
          f'{args.step_lr} on the term alone')
    print(format_rows(rows))
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(rows, f, indent=1)
    return rows


if __name__ == '__main__':
    main()
