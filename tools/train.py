"""Train a WSOL model: ``python tools/train.py CONFIG [options]``."""
import argparse
import os
import os.path as osp
import sys

import torch
from mmengine.config import Config, DictAction
from mmengine.runner import Runner

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
from fcam_mm.utils import (register_all_modules, setup_cpu_distributed,  # noqa
                           teardown_distributed)
from fcam_mm.utils.resume import (check_work_dir_writable,  # noqa: E402
                                  find_resumable_checkpoint,
                                  load_complete_checkpoint)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Train a WSOL model')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='where logs and checkpoints go')
    parser.add_argument(
        '--resume',
        nargs='?',
        type=str,
        const='auto',
        help='resume from the given checkpoint, or (no value) from the '
        'latest checkpoint in the work dir')
    parser.add_argument(
        '--amp', action='store_true',
        help='automatic mixed precision, both stages: float16 with dynamic '
        'loss scaling on CUDA (AmpOptimWrapper), bfloat16 autocast on the CPU '
        '(AutocastOptimWrapper); the CRF, size and seed losses and Otsu stay '
        'float32')
    parser.add_argument(
        '--auto-scale-lr',
        action='store_true',
        help='scale the lr by total batch size / auto_scale_lr.base_batch_size')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings, e.g. train_cfg.max_epochs=3')
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
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])
    if args.amp:
        current = cfg.optim_wrapper.get('type', 'OptimWrapper')
        if current not in ('OptimWrapper', 'AmpOptimWrapper',
                           'AutocastOptimWrapper'):
            raise ValueError(
                f'--amp: {args.config} sets optim_wrapper.type={current}; '
                '--amp replaces OptimWrapper only')
        if current != 'OptimWrapper':
            pass  # the config asks for mixed precision itself
        elif torch.cuda.is_available():
            # float16 with mmengine's dynamic loss scaling
            cfg.optim_wrapper.type = 'AmpOptimWrapper'
            cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
        else:
            # bfloat16 autocast, which needs no loss scaling
            cfg.optim_wrapper.type = 'AutocastOptimWrapper'
            cfg.optim_wrapper.setdefault('dtype', 'bfloat16')
    if args.resume == 'auto':
        cfg.resume = True
        cfg.load_from = None
    elif args.resume is not None:
        cfg.resume = True
        cfg.load_from = args.resume
    if args.auto_scale_lr:
        if 'base_batch_size' not in cfg.get('auto_scale_lr', {}):
            raise ValueError(
                f'--auto-scale-lr: {args.config} sets no '
                'auto_scale_lr.base_batch_size (the batch size its lr was '
                'tuned for); add auto_scale_lr = dict(base_batch_size=N)')
        cfg.auto_scale_lr.enable = True
    cfg.launcher = args.launcher
    return cfg


def resolve_resume(cfg):
    """``--resume``: the most recent complete checkpoint of the work dir
    (a damaged one is named in a warning and skipped), or the given one,
    which must be complete."""
    if not cfg.get('resume'):
        return cfg
    if cfg.get('load_from') is None:
        cfg.load_from = find_resumable_checkpoint(cfg.work_dir)
        if cfg.load_from is None:
            print(f'--resume: no complete checkpoint in {cfg.work_dir}; '
                  'training starts from the beginning', file=sys.stderr)
            cfg.resume = False
    elif osp.isfile(cfg.load_from):
        load_complete_checkpoint(cfg.load_from)
    return cfg


def main(argv=None):
    args = parse_args(argv)
    register_all_modules()
    cfg = Config.fromfile(args.config)
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    cfg = merge_args(cfg, args)
    # before the runner creates anything: a read-only or full work dir is
    # one clear error now, not lost checkpoints later
    check_work_dir_writable(cfg.work_dir)
    cfg = resolve_resume(cfg)
    setup_cpu_distributed(cfg, args.launcher)
    runner = Runner.from_cfg(cfg)
    runner.train()
    teardown_distributed()
    return runner


if __name__ == '__main__':
    main()
