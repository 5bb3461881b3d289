"""Evaluate a WSOL model: ``python tools/test.py CONFIG CHECKPOINT``.

A model without learnt state (the reference baselines of
``configs/baselines/``) is tested without a checkpoint:
``python tools/test.py CONFIG``."""
import argparse
import os
import os.path as osp
import sys

import mmengine
from mmengine.config import Config, DictAction
from mmengine.evaluator import DumpResults
from mmengine.runner import Runner

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
from fcam_mm.utils import (register_all_modules, setup_cpu_distributed,  # noqa
                           teardown_distributed)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Test a WSOL model')
    parser.add_argument('config', help='test config file path')
    parser.add_argument(
        'checkpoint', nargs='?',
        help='checkpoint: a path, an http(s) URL or a model name of '
        'model-index.yml; omitted only for a model without parameters '
        '(configs/baselines/)')
    parser.add_argument('--work-dir', help='where the test logs go')
    parser.add_argument(
        '--out', help='dump the per-image predictions to this pickle file')
    parser.add_argument(
        '--out-curves',
        help='write the curves of the localization metrics (accuracy vs '
        'tau, PR curve, activation histograms) as {prefix}_box_curves.npz / '
        '{prefix}_pixel_curves.npz into this folder, for '
        'tools/analysis_tools/plot_curves.py')
    parser.add_argument(
        '--show-dir',
        help='write visualizations into this folder (inside the work dir)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings, e.g. test_dataloader.batch_size=8')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def merge_args(cfg, args):
    cfg.launcher = args.launcher
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])
    cfg.load_from = args.checkpoint
    if args.show_dir is not None:
        vis = cfg.default_hooks.get('visualization')
        if vis is None:
            raise ValueError(
                '--show-dir needs a `visualization` hook in default_hooks '
                f'of {args.config}')
        vis.enable = True
        vis.out_dir = args.show_dir
    if args.out is not None and not args.out.endswith(('.pkl', '.pickle')):
        raise ValueError(f'--out must end with .pkl or .pickle, got '
                         f'{args.out}')
    return cfg


def check_testable_without_checkpoint(cfg, config, launcher='none'):
    """Without a checkpoint, only a model with nothing to load is tested:
    one whose state dict (parameters and persistent buffers) is empty."""
    from fcam_mm.registry import MODELS
    model = MODELS.build(cfg.model)
    state = model.state_dict()
    if state:
        raise ValueError(
            f'{config}: no checkpoint given, but its model '
            f'({type(model).__name__}) has {len(state)} learnt tensors '
            f'(e.g. {next(iter(state))}); pass the checkpoint (a path, an '
            'http(s) URL or a model name of model-index.yml). Only a model '
            'without parameters (configs/baselines/) is tested without one.')
    if launcher != 'none':
        # mmengine wraps a distributed model in DistributedDataParallel,
        # which refuses a module without parameters
        raise ValueError(
            f'{config}: a model without parameters is tested in one process '
            f'(--launcher none), not with --launcher {launcher}')


def dump_curves_to(metrics, out_dir, config):
    """Point every curve-collecting test metric at ``out_dir``."""
    from fcam_mm.evaluation.metrics import WSOLBaseMetric
    collectors = [m for m in metrics
                  if isinstance(m, WSOLBaseMetric) and m.collect_curves]
    if not collectors:
        raise ValueError(
            f'--out-curves: no metric of the test_evaluator of {config} '
            'collects curves (BoxLocalizationMetric / PixelLocalizationMetric '
            'with collect_curves=True)')
    for metric in collectors:
        metric.out_dir = osp.abspath(out_dir)


def main(argv=None):
    args = parse_args(argv)
    register_all_modules()
    cfg = Config.fromfile(args.config)
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    cfg = merge_args(cfg, args)
    if args.checkpoint is None:
        check_testable_without_checkpoint(cfg, args.config, args.launcher)
    setup_cpu_distributed(cfg, args.launcher)
    runner = Runner.from_cfg(cfg)
    if args.out is not None:
        mmengine.mkdir_or_exist(osp.dirname(osp.abspath(args.out)))
        runner.test_evaluator.metrics.append(
            DumpResults(out_file_path=args.out))
    if args.out_curves is not None:
        dump_curves_to(runner.test_evaluator.metrics, args.out_curves,
                       args.config)
    metrics = runner.test()
    teardown_distributed()
    return metrics


if __name__ == '__main__':
    main()
