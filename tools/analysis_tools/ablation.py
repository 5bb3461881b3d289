"""The ablation of F-CAM's loss terms (the paper's Table D.1) on one stage-1
classifier: CAM, +SR, +SR+ASC, +SR+CRF, +SR+CRF+ASC.

``python tools/analysis_tools/ablation.py STAGE1_CKPT [--data-root
data/synthetic] [--work-dir work_dirs/ablation] [--stage2-epochs N]
[--cfg-options KEY=VALUE ...]``

Each row trains stage 2 alone from ``STAGE1_CKPT`` with
``configs/fcam/ablation/*`` (a config per row), selects its checkpoint on the
validation split, and reports the test split; the CAM row is the stage-1
classifier's own map, evaluated in the same test runs.
"""
import argparse
import os.path as osp
import sys

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
ROWS = [('+SR', 'sr'), ('+SR+ASC', 'sr_asc'), ('+SR+CRF', 'sr_crf'),
        ('+SR+CRF+ASC', 'sr_crf_asc')]
COLUMNS = ['MaxBoxAcc', 'MaxBoxAccV2', 'PxAP', 'top1_loc']


def load_tool(relative_path):
    from fcam_mm.utils import load_script
    return load_script(osp.join(REPO, relative_path))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('stage1_checkpoint')
    parser.add_argument('--data-root', default='data/synthetic')
    parser.add_argument('--work-dir', default='work_dirs/ablation')
    parser.add_argument('--stage2-epochs', type=int, default=None)
    parser.add_argument('--cfg-options', nargs='+', default=[],
                        metavar='KEY=VALUE',
                        help='passed to every row\'s training and test, '
                        'e.g. model.seed_cfg.n_neg=0.1')
    args = parser.parse_args(argv)
    sys.path.insert(0, REPO)
    train, test = load_tool('tools/train.py'), load_tool('tools/test.py')
    from fcam_mm.engine.best_checkpoint import best_checkpoint

    options = [f'custom_hooks.0.stage1_checkpoint={args.stage1_checkpoint}']
    options += [
        f'{split}_dataloader.dataset.data_root={args.data_root}/'
        for split in ('train', 'val', 'test')
    ]
    if args.stage2_epochs is not None:
        options.append(f'train_cfg.max_epochs={args.stage2_epochs}')
    options += args.cfg_options

    results = []
    for label, name in ROWS:
        config = osp.join(REPO, 'configs', 'fcam', 'ablation',
                          f'tinyresnet_synthetic_{name}.py')
        work_dir = osp.join(args.work_dir, name)
        runner = train.main([config, '--work-dir', work_dir,
                             '--cfg-options'] + options)
        best = best_checkpoint(runner, 'fcam/MaxBoxAcc', required=True)
        metrics = test.main([config, best, '--work-dir', work_dir,
                             '--cfg-options'] + options)
        if not results:
            results.append(('CAM', {k: metrics[f'cam/{k}'] for k in COLUMNS}))
        results.append((label, {k: metrics[f'fcam/{k}'] for k in COLUMNS}))

    lines = ['| row | ' + ' | '.join(COLUMNS) + ' |',
             '|' + '---|' * (len(COLUMNS) + 1)]
    for label, values in results:
        lines.append(f'| {label} | ' +
                     ' | '.join(f'{values[k]:.2f}' for k in COLUMNS) + ' |')
    table = '\n'.join(lines)
    with open(osp.join(args.work_dir, 'ablation.md'), 'w') as f:
        f.write(table + '\n')
    print('\n' + table)


if __name__ == '__main__':
    main()
