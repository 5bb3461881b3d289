"""Choose σ of the centre-Gaussian baseline on a split (the validation one).

``python tools/analysis_tools/center_gaussian_sigma.py CONFIG [--sigmas
0.1 0.2 ...] [--split val] [--select-by MaxBoxAcc] [--cfg-options ...]``

CONFIG is a ``CenterGaussianLocalizer`` config (``configs/baselines/``).
Its ``{split}_dataloader`` and ``{split}_evaluator`` are built once; the
split is read once and every σ is evaluated on it with the config's
metrics (the protocol of Choe et al. 2020, nothing changed). Printed: a
table σ → MaxBoxAcc / MaxBoxAccV2 / PxAP (the columns the evaluator has),
the best σ per metric (the smallest σ of the grid on ties), the spread of
each metric over the grid, and the σ selected by ``--select-by``
(default: MaxBoxAcc when the evaluator has box metrics, the paper's CUB
metric; PxAP otherwise, its OpenImages metric; ties — the box accuracies
are flat over a range of σ — go to the best of the other columns in table
order, then to the smallest σ). Put that σ in the config (``model.sigma``)
next to this command.

Why the numbers barely move with σ: the protocol min-max normalises every
map, and ``exp(-d² / (2σ²))`` orders the pixels by their distance ``d`` to
the centre for every σ, so the level sets are discs for every σ. σ only
decides *which* discs the protocol can reach — the uint8 quantisation the
box metrics threshold (255 levels: a small σ puts them on small radii and
quantises the outskirts to 0, a large σ spreads them evenly in ``d²``) and
the 0.001 grid of PxAP's thresholds — plus the bicubic resize to 224
when the input frame is not 224 (docs/baselines.md has the measurement).
Select on val, report on test; never select on test.
"""
import argparse
import copy
import os.path as osp
import sys

import numpy as np
from mmengine.config import Config, DictAction
from mmengine.evaluator import Evaluator
from mmengine.runner import Runner

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(
    __file__)))))
from fcam_mm.registry import METRICS, MODELS  # noqa: E402
from fcam_mm.utils import register_all_modules  # noqa: E402

DEFAULT_SIGMAS = (0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5, 0.6,
                  0.8, 1.0, 1.5, 2.0)
#: the columns of the table, in this order, where the evaluator has them
METRIC_NAMES = ('MaxBoxAcc', 'MaxBoxAccV2', 'PxAP')


def evaluate_sigmas(cfg: Config, sigmas, split: str = 'val') -> dict:
    """``{sigma: metrics}``: the config's ``{split}_evaluator`` on its
    ``{split}_dataloader`` for a ``CenterGaussianLocalizer`` with each σ
    (the split is read and preprocessed once)."""
    model_cfg = copy.deepcopy(cfg.model)
    model_type = MODELS.get(model_cfg['type'])
    if model_type is not MODELS.get('CenterGaussianLocalizer'):
        raise ValueError(
            f"{cfg.filename}: the model is {model_cfg['type']}, not "
            'CenterGaussianLocalizer; this tool chooses the sigma of the '
            'centre-Gaussian baseline (configs/baselines/)')
    for key in (f'{split}_dataloader', f'{split}_evaluator'):
        if cfg.get(key) is None:
            raise KeyError(f'{cfg.filename} has no {key}')
    models = [MODELS.build(dict(model_cfg, sigma=float(s))) for s in sigmas]
    dataloader = Runner.build_dataloader(
        copy.deepcopy(cfg[f'{split}_dataloader']))
    evaluator_cfg = cfg[f'{split}_evaluator']
    if isinstance(evaluator_cfg, dict):
        evaluator_cfg = [evaluator_cfg]
    evaluators = [
        Evaluator([METRICS.build(copy.deepcopy(m)) for m in evaluator_cfg])
        for _ in sigmas
    ]
    for data in dataloader:
        data = models[0].data_preprocessor(data, False)
        for model, evaluator in zip(models, evaluators):
            # predict overwrites each sample's `cam`: one σ at a time
            outputs = model.predict(data['inputs'], data['data_samples'])
            evaluator.process(data_samples=outputs, data_batch=data)
    size = len(dataloader.dataset)
    return {float(s): e.evaluate(size) for s, e in zip(sigmas, evaluators)}


def metric_columns(results: dict) -> dict:
    """``{name: key}`` of the table's columns among the evaluator's keys
    (``'cam/MaxBoxAcc'`` or ``'MaxBoxAcc'``)."""
    keys = next(iter(results.values())).keys()
    columns = {}
    for name in METRIC_NAMES:
        found = [k for k in keys if k == name or k.endswith('/' + name)]
        if len(found) > 1:
            raise ValueError(f'{name}: several metrics report it ({found}); '
                             'keep one localization metric per kind')
        if found:
            columns[name] = found[0]
    if not columns:
        raise ValueError(f'the evaluator reports none of {METRIC_NAMES}')
    return columns


def best_sigmas(results: dict, columns: dict) -> dict:
    """``{name: (sigma, value)}``: the best σ per metric; on ties the
    smallest σ (``results`` is in increasing σ)."""
    sigmas = list(results)
    best = {}
    for name, key in columns.items():
        values = np.array([results[s][key] for s in sigmas])
        i = int(np.argmax(values))
        best[name] = (sigmas[i], float(values[i]))
    return best


def select_sigma(results: dict, columns: dict, select_by: str) -> float:
    """The σ with the best ``select_by``; ties (frequent: on a plateau of σ
    the box accuracies do not change) are broken by the other columns in
    table order, then by the smallest σ."""
    order = [select_by] + [n for n in columns if n != select_by]
    sigmas = list(results)
    ranked = sorted(sigmas, key=lambda s: tuple(
        -results[s][columns[n]] for n in order) + (s, ))
    return ranked[0]


def format_table(results: dict, columns: dict, best: dict) -> str:
    header = ['sigma'] + list(columns)
    lines = [' | '.join(header), ' | '.join('---' for _ in header)]
    for sigma, metrics in results.items():
        cells = [f'{sigma:g}']
        for name, key in columns.items():
            mark = '*' if best[name][0] == sigma else ''
            cells.append(f'{metrics[key]:.2f}{mark}')
        lines.append(' | '.join(cells))
    return '\n'.join('| ' + line + ' |' for line in lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', help='a CenterGaussianLocalizer config')
    parser.add_argument('--sigmas', type=float, nargs='+',
                        default=list(DEFAULT_SIGMAS),
                        help='σ values, fractions of the image side')
    parser.add_argument('--split', default='val', choices=['val', 'test'],
                        help='choose on val (the protocol); test only to '
                        'report the numbers of a σ chosen on val')
    parser.add_argument('--select-by', choices=METRIC_NAMES,
                        help='metric that selects σ (default: MaxBoxAcc if '
                        'the evaluator has boxes, else PxAP)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, e.g. '
                        'val_dataloader.dataset.data_root=...')
    args = parser.parse_args(argv)
    sigmas = sorted(set(args.sigmas))
    if any(not (np.isfinite(s) and s > 0) for s in sigmas):
        parser.error(f'--sigmas must be positive, got {args.sigmas}')
    register_all_modules()
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    results = evaluate_sigmas(cfg, sigmas, args.split)
    columns = metric_columns(results)
    best = best_sigmas(results, columns)
    select_by = args.select_by or ('MaxBoxAcc' if 'MaxBoxAcc' in columns
                                   else 'PxAP')
    if select_by not in columns:
        parser.error(f'--select-by {select_by}: the {args.split} evaluator '
                     f'reports only {", ".join(columns)}')
    print(f'{osp.basename(args.config)}, {args.split} split, '
          f'{len(sigmas)} sigma values (* best per column)')
    print(format_table(results, columns, best))
    for name, (sigma, value) in best.items():
        values = [results[s][columns[name]] for s in sigmas]
        print(f'best {name}: sigma={sigma:g} ({value:.2f}); over the grid '
              f'{min(values):.2f} .. {max(values):.2f} '
              f'(spread {max(values) - min(values):.2f})')
    selected = select_sigma(results, columns, select_by)
    others = ', '.join(f'{n} {results[selected][k]:.2f}'
                       for n, k in columns.items())
    print(f'selected by {select_by} on {args.split} (ties: by the other '
          f'columns, then the smaller sigma): sigma={selected:g} ({others})')
    return dict(results=results, columns=columns, best=best,
                select_by=select_by, selected=selected)


if __name__ == '__main__':
    main()
