"""Figures of a test run's curves: localization accuracy vs tau (the paper's
Fig. 5 a), the PxAP precision-recall curve (Fig. 5 b) and the distribution
of the normalised activations (Fig. 6).

    python tools/test.py CONFIG CKPT --out-curves work_dirs/curves
    python tools/analysis_tools/plot_curves.py work_dirs/curves \\
        --out-dir work_dirs/figures

Inputs: folders holding ``{prefix}_box_curves.npz`` /
``{prefix}_pixel_curves.npz`` or such files; each prefix (``cam``,
``fcam``, ...) is one line. Several folders compare runs (labels
``folder/prefix``; ``--rename old=new`` renames).
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(
    osp.abspath(__file__)))))


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Plot the curves dumped by tools/test.py --out-curves')
    parser.add_argument('inputs', nargs='+',
                        help='folders or *_box_curves.npz / '
                        '*_pixel_curves.npz files')
    parser.add_argument('--out-dir', default='work_dirs/curve_figures',
                        help='where the PNGs go')
    parser.add_argument('--box-curve', default='accuracy',
                        help="box curve vs tau: 'accuracy' (MaxBoxAcc) or "
                        "'accuracy_V2@30|50|70'")
    parser.add_argument('--bins', type=int, default=50,
                        help='histogram bins over [0, 1] (default 50)')
    parser.add_argument('--log', action='store_true',
                        help='log-scale densities')
    parser.add_argument('--rename', nargs='+', default=[],
                        metavar='OLD=NEW', help='rename runs in legends')
    parser.add_argument('--dpi', type=int, default=150)
    args = parser.parse_args(argv)
    if args.bins < 1:
        parser.error('--bins must be positive')
    for item in args.rename:
        if item.count('=') != 1:
            parser.error(f'--rename takes OLD=NEW, got {item!r}')
    return args


def main(argv=None):
    args = parse_args(argv)
    from collections import OrderedDict

    from mmengine.utils import mkdir_or_exist

    from fcam_mm.visualization.curves import (curve_figures,
                                              load_curve_files,
                                              summarize_runs)
    runs = load_curve_files(args.inputs)
    renames = dict(item.split('=') for item in args.rename)
    unknown = sorted(set(renames) - set(runs))
    if unknown:
        raise SystemExit(f'--rename: no run named {unknown} (runs: '
                         f'{list(runs)})')
    runs = OrderedDict((renames.get(k, k), v) for k, v in runs.items())
    figures = curve_figures(runs, args.box_curve, args.bins, args.log)
    mkdir_or_exist(args.out_dir)
    written = []
    for name, figure in figures.items():
        path = osp.join(args.out_dir, f'{name}.png')
        figure.savefig(path, dpi=args.dpi)
        written.append(path)
    for label, row in summarize_runs(runs).items():
        print(f'{label}: ' + ', '.join(
            f'{k} {v:.3f}' if k == 'best_tau' else f'{k} {v:.2f}'
            for k, v in row.items()))
    kinds = {kind for run in runs.values() for kind in run}
    if 'pixel' not in kinds:
        print('no pixel curves (PixelLocalizationMetric): no PR curve')
    if 'box' not in kinds:
        print('no box curves (BoxLocalizationMetric): no accuracy-vs-tau '
              'curve')
    for path in written:
        print(f'wrote {path}')
    return written


if __name__ == '__main__':
    main()
