"""The README's demo: synthetic data → train → test → result table.

``python tools/run_demo.py [--work-dir work_dirs/demo] [--data-root
data/synthetic] [--epochs N]``. Every step goes through the same tools a user
runs (``tools/dataset_converters/make_synthetic.py``, ``tools/train.py``,
``tools/test.py``); the table is the test split's metrics of the checkpoint
selected on the validation split.
"""
import argparse
import glob
import importlib.util
import os.path as osp
import sys
import time

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, REPO)

STAGE1_CONFIG = 'configs/wsol/cam_tinyresnet_synthetic.py'
COLUMNS = [('MaxBoxAcc', 'loc/MaxBoxAcc'), ('MaxBoxAccV2', 'loc/MaxBoxAccV2'),
           ('PxAP', 'pxap/PxAP'), ('top-1 loc', 'loc/top1_loc'),
           ('top-1 cls', 'cls/top1')]


def load_tool(relative_path):
    path = osp.join(REPO, relative_path)
    spec = importlib.util.spec_from_file_location(
        osp.splitext(osp.basename(path))[0], path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def best_checkpoint(work_dir):
    found = sorted(glob.glob(osp.join(work_dir, 'best_*.pth')))
    if not found:
        raise FileNotFoundError(f'no best_*.pth in {work_dir}: did the '
                                'validation run?')
    return found[-1]


def format_table(rows):
    header = '| method | ' + ' | '.join(name for name, _ in COLUMNS) + ' |'
    lines = [header, '|' + '---|' * (len(COLUMNS) + 1)]
    for method, metrics in rows:
        cells = []
        for _, key in COLUMNS:
            value = metrics.get(key)
            cells.append('n/a' if value is None else f'{value:.2f}')
        lines.append(f'| {method} | ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--work-dir', default='work_dirs/demo')
    parser.add_argument('--data-root', default='data/synthetic')
    parser.add_argument('--epochs', type=int, default=None,
                        help='override the configs\' max_epochs')
    args = parser.parse_args(argv)
    start = time.time()

    if not osp.isfile(osp.join(args.data_root, 'metadata', 'test',
                               'image_ids.txt')):
        print(f'[demo] generating the synthetic dataset in {args.data_root}')
        load_tool('tools/dataset_converters/make_synthetic.py').main(
            [args.data_root])

    data_options = [
        f'{split}_dataloader.dataset.data_root={args.data_root}/'
        for split in ('train', 'val', 'test')
    ]
    if args.epochs is not None:
        data_options.append(f'train_cfg.max_epochs={args.epochs}')

    stage1_dir = osp.join(args.work_dir, 'stage1_cam')
    print(f'[demo] stage 1: training the classifier ({STAGE1_CONFIG})')
    load_tool('tools/train.py').main(
        [STAGE1_CONFIG, '--work-dir', stage1_dir, '--cfg-options'] +
        data_options)
    checkpoint = best_checkpoint(stage1_dir)
    print(f'[demo] testing {checkpoint} on the test split')
    metrics = load_tool('tools/test.py').main(
        [STAGE1_CONFIG, checkpoint, '--work-dir', stage1_dir,
         '--cfg-options'] + data_options)

    table = format_table([('CAM (stage 1, TinyResNet)', metrics)])
    minutes = (time.time() - start) / 60
    report = (f'Synthetic test split, checkpoint selected on val '
              f'({osp.basename(checkpoint)}); {minutes:.1f} min.\n\n'
              f'{table}\n')
    with open(osp.join(args.work_dir, 'results.md'), 'w') as f:
        f.write(report)
    print('\n' + report)


if __name__ == '__main__':
    main()
