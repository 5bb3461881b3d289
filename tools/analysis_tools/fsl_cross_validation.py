"""K-fold cross-validation of the FSL baseline's hyper-parameters inside its
training split, then (``--final``) training on the whole split and testing.

    python tools/analysis_tools/fsl_cross_validation.py CONFIG \\
        [--folds 5] [--lr 0.03 0.01 0.003] [--max-iters N [N ...]] \\
        [--seed 0] [--work-dir DIR] [--select-by MaxBoxAcc|PxAP] [--final] \\
        [--cfg-options KEY=VALUE ...]

The training split of ``CONFIG`` (for ``configs/fsl/*``: the validation
split, Choe et al.'s "train-fullsup") is split into K class-stratified
folds (``fcam_mm.datasets.folds.stratified_folds``; written to
``WORK_DIR/folds.json``). Every candidate (each ``--lr`` × each
``--max-iters``) is trained K times through mmengine's Runner, on K−1 folds,
and evaluated on the held-out fold with the config's test metrics; the
test split is never read. The candidate with the highest mean selection
metric (MaxBoxAcc where the config has a box metric, else PxAP; ties: the
first listed) is chosen. ``--final`` then trains it on the whole split and
evaluates it on the test split. Everything runs in this one process.

Outputs in ``WORK_DIR`` (default ``work_dirs/fsl_cv/<config name>``):
``folds.json``, ``cv_results.json``, ``cv_table.md``, a work dir per
candidate and fold (logs only), and with ``--final`` ``final/`` (the
checkpoint) and ``final_test.json``.
"""
import argparse
import copy
import json
import os
import os.path as osp
import sys
import time

import numpy as np

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SELECTION_METRICS = ('MaxBoxAcc', 'PxAP')
REPORTED_METRICS = ('MaxBoxAcc', 'MaxBoxAccV2', 'PxAP')


def parse_args(argv=None):
    from mmengine.config import DictAction
    parser = argparse.ArgumentParser(
        description='Cross-validate the FSL baseline inside its training '
        'split; --final: train the chosen candidate on it and test.')
    parser.add_argument('config', help='an FSL config (configs/fsl/*.py)')
    parser.add_argument('--folds', type=int, default=5, help='K (default 5)')
    parser.add_argument('--lr', type=float, nargs='+',
                        help='candidate learning rates (default: the '
                        "config's)")
    parser.add_argument('--max-iters', type=int, nargs='+',
                        help='candidate iteration budgets (default: the '
                        "config's); each moves the lr schedule's end too")
    parser.add_argument('--seed', type=int, default=0,
                        help='seed of the fold split and of every run')
    parser.add_argument('--work-dir', help='default: work_dirs/fsl_cv/'
                        '<config name>')
    parser.add_argument('--select-by', choices=SELECTION_METRICS,
                        help='selection metric (default: MaxBoxAcc if the '
                        'config evaluates boxes, else PxAP)')
    parser.add_argument('--final', action='store_true',
                        help='train the chosen candidate on the whole split '
                        'and evaluate it on the test split')
    parser.add_argument('--log-level', default='WARNING',
                        choices=['DEBUG', 'INFO', 'WARNING', 'ERROR'],
                        help="mmengine's console log level of the runs "
                        '(default WARNING; the tool prints its progress)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings before the folds')
    args = parser.parse_args(argv)
    if args.max_iters is not None and min(args.max_iters) < 1:
        parser.error('--max-iters must be positive')
    if args.lr is not None and min(args.lr) <= 0:
        parser.error('--lr must be positive')
    return args


# -- configs -----------------------------------------------------------------
def training_labels(cfg):
    """Class label and image id of every sample of the config's training
    split, in dataset order (the positions ``indices`` refers to)."""
    from fcam_mm.registry import DATASETS
    dataset_cfg = copy.deepcopy(cfg.train_dataloader.dataset)
    if dataset_cfg.get('indices') is not None:
        raise ValueError('the training dataset of the config already has '
                         '`indices`; cross-validation splits the whole split '
                         'itself')
    dataset_cfg['pipeline'] = []
    dataset = DATASETS.build(dataset_cfg)
    infos = [dataset.get_data_info(i) for i in range(len(dataset))]
    return ([int(info['gt_label']) for info in infos],
            [info.get('img_id', info['img_path']) for info in infos])


def set_iteration_budget(cfg, max_iters):
    """``train_cfg.max_iters = max_iters``, and every lr scheduler that
    ended with training ends there too (so poly decay still reaches 0)."""
    if cfg.train_cfg.get('type') != 'IterBasedTrainLoop':
        raise ValueError('--max-iters needs an iteration-based config '
                         "(train_cfg.type='IterBasedTrainLoop', as "
                         f'configs/fsl/*), got {cfg.train_cfg.get("type")}')
    old = cfg.train_cfg.max_iters
    schedulers = cfg.get('param_scheduler') or []
    if isinstance(schedulers, dict):
        schedulers = [schedulers]
    for scheduler in schedulers:
        if scheduler.get('end') == old:
            scheduler['end'] = max_iters
    cfg.train_cfg.max_iters = max_iters


def candidate_config(cfg, lr, max_iters):
    cfg = copy.deepcopy(cfg)
    cfg.optim_wrapper.optimizer.lr = lr
    set_iteration_budget(cfg, max_iters)
    return cfg


def fold_config(cfg, train_indices, heldout_indices, work_dir):
    """``cfg`` training on ``train_indices`` of its training split and
    validating once, after the last iteration, on ``heldout_indices`` of the
    same split with the test pipeline and the test metrics."""
    cfg = copy.deepcopy(cfg)
    train_set = cfg.train_dataloader.dataset
    train_set.indices = [int(i) for i in train_indices]
    heldout_set = copy.deepcopy(train_set)
    heldout_set.indices = [int(i) for i in heldout_indices]
    heldout_set.pipeline = copy.deepcopy(cfg.test_dataloader.dataset.pipeline)
    heldout_set.test_mode = True
    cfg.val_dataloader = dict(
        batch_size=cfg.test_dataloader.batch_size,
        num_workers=cfg.test_dataloader.get('num_workers', 0),
        persistent_workers=False,
        sampler=dict(type='DefaultSampler', shuffle=False),
        dataset=heldout_set)
    cfg.val_evaluator = copy.deepcopy(cfg.test_evaluator)
    cfg.val_cfg = dict(type='ValLoop')
    # IterBasedTrainLoop always validates after its last iteration.
    cfg.train_cfg.val_interval = cfg.train_cfg.max_iters
    # A fold's model is thrown away: no checkpoint.
    cfg.default_hooks.checkpoint = dict(
        type='CheckpointHook', interval=-1, save_last=False)
    cfg.work_dir = work_dir
    return cfg


def run_config(cfg, name, mode):
    """Build a Runner for ``cfg`` and train (``mode='train'``: returns the
    metrics of the validation after the last iteration) or train then test
    (``mode='final'``: the test metrics)."""
    from mmengine.runner import Runner
    cfg.experiment_name = name  # unique: several runners in one process
    runner = Runner.from_cfg(cfg)
    runner.train()
    if mode == 'final':
        return runner.test()
    hub = runner.message_hub
    return {key[len('val/'):]: float(value.current())
            for key, value in hub.log_scalars.items()
            if key.startswith('val/')}


# -- results -----------------------------------------------------------------
def metric_key(metrics, name):
    """The key of ``metrics`` for metric ``name`` (``'fsl/PxAP'`` …)."""
    keys = [k for k in metrics if k == name or k.endswith('/' + name)]
    if len(keys) > 1:
        raise ValueError(f'several {name} metrics ({keys}): name the map '
                         'with one prefix only')
    return keys[0] if keys else None


def summarize(per_fold):
    """``{metric: (mean, sample std over folds, values)}`` for the reported
    metrics present in every fold."""
    summary = {}
    for name in REPORTED_METRICS:
        keys = [metric_key(m, name) for m in per_fold]
        if any(k is None for k in keys):
            continue
        values = np.array([m[k] for m, k in zip(per_fold, keys)])
        std = float(values.std(ddof=1)) if len(values) > 1 else 0.0
        summary[name] = (float(values.mean()), std, values.tolist())
    return summary


def choose(candidates, select_by):
    """Index of the candidate with the highest mean ``select_by`` (the
    first one on ties)."""
    means = [c['summary'][select_by][0] for c in candidates]
    return int(np.argmax(means))


def format_table(candidates, chosen, select_by):
    names = [n for n in REPORTED_METRICS if n in candidates[0]['summary']]
    lines = ['| lr | iters | ' + ' | '.join(f'{n} (mean ± std)'
                                             for n in names) +
             f' | {select_by} per fold |',
             '|' + '---|' * (len(names) + 3)]
    for i, cand in enumerate(candidates):
        cells = [f'{cand["summary"][n][0]:.2f} ± {cand["summary"][n][1]:.2f}'
                 for n in names]
        folds = ', '.join(f'{v:.1f}' for v in cand['summary'][select_by][2])
        mark = ' **(chosen)**' if i == chosen else ''
        lines.append(f'| {cand["lr"]:g}{mark} | {cand["max_iters"]} | ' +
                     ' | '.join(cells) + f' | {folds} |')
    return '\n'.join(lines)


def write_json(path, data):
    with open(path, 'w') as f:
        json.dump(data, f, indent=2)


# -- main --------------------------------------------------------------------
def main(argv=None):
    args = parse_args(argv)
    sys.path.insert(0, REPO)
    from mmengine.config import Config

    from fcam_mm.datasets.folds import stratified_folds
    from fcam_mm.utils import register_all_modules
    register_all_modules()

    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    cfg.log_level = args.log_level
    cfg.randomness = dict(cfg.get('randomness', {}), seed=args.seed)
    config_name = osp.splitext(osp.basename(args.config))[0]
    work_dir = args.work_dir or osp.join('work_dirs', 'fsl_cv', config_name)
    os.makedirs(work_dir, exist_ok=True)
    lrs = args.lr or [cfg.optim_wrapper.optimizer.lr]
    budgets = args.max_iters or [cfg.train_cfg.max_iters]

    labels, img_ids = training_labels(cfg)
    folds = stratified_folds(labels, args.folds, args.seed)
    write_json(osp.join(work_dir, 'folds.json'), dict(
        config=args.config, seed=args.seed, num_folds=args.folds,
        split=cfg.train_dataloader.dataset.ann_file,
        num_samples=len(labels),
        folds=[dict(indices=f.tolist(),
                    img_ids=[img_ids[i] for i in f],
                    class_counts={str(c): int(np.sum(np.asarray(labels)[f]
                                                     == c))
                                  for c in sorted(set(labels))})
               for f in folds]))
    print(f'{len(labels)} images of {cfg.train_dataloader.dataset.ann_file} '
          f'in {args.folds} stratified folds of '
          f'{", ".join(str(len(f)) for f in folds)} (seed {args.seed}); '
          f'{work_dir}/folds.json', flush=True)

    candidates = []
    for max_iters in budgets:
        for lr in lrs:
            tag = f'lr{lr:g}_it{max_iters}'
            base = candidate_config(cfg, lr, max_iters)
            per_fold = []
            for k, heldout in enumerate(folds):
                train = np.sort(np.concatenate(
                    [f for j, f in enumerate(folds) if j != k]))
                start = time.perf_counter()
                metrics = run_config(
                    fold_config(base, train, heldout,
                                osp.join(work_dir, tag, f'fold{k}')),
                    f'{config_name}_{tag}_fold{k}', 'train')
                per_fold.append(metrics)
                shown = ', '.join(
                    f'{n} {metrics[metric_key(metrics, n)]:.2f}'
                    for n in REPORTED_METRICS if metric_key(metrics, n))
                print(f'[lr {lr:g}, {max_iters} iters] fold {k + 1}/'
                      f'{args.folds}: {shown} '
                      f'({time.perf_counter() - start:.0f} s)', flush=True)
            candidates.append(dict(lr=lr, max_iters=max_iters,
                                   per_fold=per_fold,
                                   summary=summarize(per_fold)))

    available = candidates[0]['summary']
    select_by = args.select_by or next(
        (n for n in SELECTION_METRICS if n in available), None)
    if select_by not in available:
        raise ValueError(f'selection metric {select_by} is not among the '
                         f'held-out metrics {sorted(available)}')
    chosen = choose(candidates, select_by)
    table = format_table(candidates, chosen, select_by)
    best = candidates[chosen]
    text = (f'{args.folds}-fold cross-validation of {args.config} on '
            f'{cfg.train_dataloader.dataset.ann_file} (seed {args.seed}); '
            f'std: sample std over folds\n\n{table}\n\nchosen: lr '
            f'{best["lr"]:g}, {best["max_iters"]} iters (highest mean '
            f'{select_by})\n')
    with open(osp.join(work_dir, 'cv_table.md'), 'w') as f:
        f.write(text)
    write_json(osp.join(work_dir, 'cv_results.json'), dict(
        config=args.config, select_by=select_by,
        chosen=dict(lr=best['lr'], max_iters=best['max_iters']),
        candidates=[{k: v for k, v in c.items()} for c in candidates]))
    print('\n' + text, flush=True)

    result = dict(chosen=dict(lr=best['lr'], max_iters=best['max_iters']),
                  select_by=select_by, candidates=candidates, folds=folds)
    if args.final:
        final = candidate_config(cfg, best['lr'], best['max_iters'])
        final.work_dir = osp.join(work_dir, 'final')
        start = time.perf_counter()
        metrics = run_config(final, f'{config_name}_final', 'final')
        metrics = {k: float(v) for k, v in metrics.items()}
        write_json(osp.join(work_dir, 'final_test.json'), dict(
            config=args.config, lr=best['lr'], max_iters=best['max_iters'],
            test=metrics))
        shown = ', '.join(f'{n} {metrics[metric_key(metrics, n)]:.2f}'
                          for n in REPORTED_METRICS
                          if metric_key(metrics, n))
        print(f'final: lr {best["lr"]:g}, {best["max_iters"]} iters on the '
              f'whole split; test split: {shown} '
              f'({time.perf_counter() - start:.0f} s)', flush=True)
        result['test'] = metrics
    return result


if __name__ == '__main__':
    main()
