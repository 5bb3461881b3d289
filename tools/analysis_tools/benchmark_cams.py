"""Benchmark the CAM methods: ms per image to build a full-size map.

For every backbone and method, on a batch of random 224x224 images (200
classes, random weights, eval mode, inside ``torch.no_grad()`` as in the
test loop), times

- ``forward``: the classifier alone (backbone + GAP head: class scores);
- ``map``: what a method adds once the backbone's features exist (the
  localizer passes them as ``feats``): the CAM of the given class — plus the
  backward of gradient methods, the noisy forwards of Smooth Grad-CAM++ —
  and the bicubic resize of the map to the input size;

each batched (one call for ``--batch-size`` images) and per image (one call
per image, the way CAM libraries and F-CAM's code work), in ms per image.
``forward + map`` is what the test loop pays per image. Times are the
minimum (and median) over ``--repeat`` runs after a warm-up. Table F.4 of
the paper (one image on an idle P100, torchcam-style extraction with a full
backward) is printed alongside.

Example::

    python tools/analysis_tools/benchmark_cams.py                    # CPU
    python tools/analysis_tools/benchmark_cams.py --device cuda --batch-size 32
    python tools/analysis_tools/benchmark_cams.py --backbones tinyresnet \\
        --methods CAM GradCAM ScoreCAM

ScoreCAM needs one forward per channel of the target layer (2048 for
ResNet50) per image: it is only run when named in ``--methods``.
"""
import argparse
import ast
import json
import os.path as osp
import platform
import statistics
import sys
import time

import torch
import torch.nn.functional as F

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, ROOT)
from fcam_mm.registry import MODELS  # noqa: E402
from fcam_mm.utils import register_all_modules  # noqa: E402

BACKBONES = {
    'resnet50': (dict(type='ResNet50WSOL'), 2048),
    'vgg16': (dict(type='VGG16WSOL'), 1024),
    'inceptionv3': (dict(type='InceptionV3WSOL'), 1024),
    'tinyresnet': (dict(type='TinyResNet'), 128),
}
METHODS = ('CAM', 'GradCAM', 'GradCAMPlusPlus', 'SmoothGradCAMPlusPlus',
           'XGradCAM', 'LayerCAM', 'HiResCAM', 'EigenCAM')
# Table F.4 of the paper: ms per image on a P100 (VGG16, Inception, ResNet50).
PAPER_MS = {
    'CAM': (0.2, 0.2, 0.3),
    'GradCAM': (7.7, 21.1, 27.8),
    'GradCAMPlusPlus': (23.5, 23.7, 28.0),
    'SmoothGradCAMPlusPlus': (62.0, 150.7, 136.2),
    'XGradCAM': (2.9, 19.2, 14.2),
    'LayerCAM': (3.2, 18.2, 17.9),
    'ScoreCAM': (1900.0, 3400.0, 9300.0),
}
PAPER_COLUMN = {'vgg16': 0, 'inceptionv3': 1, 'resnet50': 2}


def build_localizer(backbone, num_classes, device):
    cfg, channels = BACKBONES[backbone]
    model = MODELS.build(dict(
        type='WSOLLocalizer', backbone=cfg,
        head=dict(type='GAPClsHead', num_classes=num_classes,
                  in_channels=channels)))
    return model.to(device).eval()


def synchronize(device):
    if device.type == 'cuda':
        torch.cuda.synchronize(device)


def timed(fn, device, repeat):
    """Median and minimum wall time (s) of ``repeat`` runs after a
    warm-up."""
    fn()
    times = []
    for _ in range(repeat):
        synchronize(device)
        start = time.perf_counter()
        fn()
        synchronize(device)
        times.append(time.perf_counter() - start)
    return statistics.median(times), min(times)


def per_image(fn, num):
    """A callable that runs ``fn(i)`` for every image ``i < num``, one
    call per image."""
    def run():
        for i in range(num):
            fn(i)
    return run


def parse_method(spec):
    """``'Type'`` or ``'Type:key=value,key=value'`` → a CAM config."""
    name, _, options = spec.partition(':')
    cfg = dict(type=name)
    for item in filter(None, options.split(',')):
        key, _, value = item.partition('=')
        cfg[key] = ast.literal_eval(value)
    return cfg


def full_size_maps(cam, model, images, targets, feats):
    maps, _ = cam(model, images, targets, feats=feats)
    return F.interpolate(maps[:, None], size=images.shape[-2:],
                         mode='bicubic', align_corners=False)[:, 0]


def benchmark(args):
    device = torch.device(args.device)
    results = []
    for backbone in args.backbones:
        torch.manual_seed(0)
        model = build_localizer(backbone, args.num_classes, device)
        num = args.batch_size
        images = torch.randn(num, 3, args.size, args.size, device=device)
        targets = torch.randint(args.num_classes, (num, ), device=device)

        def row(method, batched, single):
            entry = dict(
                backbone=backbone, method=method,
                batched_ms=1e3 * batched[0] / num,
                batched_min_ms=1e3 * batched[1] / num,
                per_image_ms=1e3 * single[0] / num,
                per_image_min_ms=1e3 * single[1] / num)
            paper = PAPER_MS.get(method.partition(':')[0])
            column = PAPER_COLUMN.get(backbone)
            if paper is not None and column is not None:
                entry['paper_ms'] = paper[column]
            results.append(entry)
            print(json.dumps(entry), flush=True)

        with torch.no_grad():
            feats = model.extract_feat(images)
            singles = [model.extract_feat(images[i:i + 1])
                       for i in range(num)]
            row('forward',
                timed(lambda: model(images), device, args.repeat),
                timed(per_image(lambda i: model(images[i:i + 1]), num),
                      device, args.repeat))
            for method in args.methods:
                cam = MODELS.build(parse_method(method))
                batched = timed(
                    lambda: full_size_maps(cam, model, images, targets,
                                           feats), device, args.repeat)
                single = timed(per_image(
                    lambda i: full_size_maps(
                        cam, model, images[i:i + 1], targets[i:i + 1],
                        singles[i]), num), device, args.repeat)
                row(method, batched, single)
    return results


def markdown(results, batch_size):
    lines = [
        f'| backbone | method | map, batched (B={batch_size}) | '
        'map, per image | forward + map, batched | '
        'forward + map, per image | paper, Table F.4 (P100) |',
        '|---|---|---|---|---|---|---|',
    ]
    forward = {}
    for r in results:
        if r['method'] == 'forward':
            forward[r['backbone']] = r
            lines.append(
                f"| {r['backbone']} | *forward (scores only)* | | | "
                f"{r['batched_min_ms']:.1f} | {r['per_image_min_ms']:.1f} "
                '| |')
            continue
        f = forward[r['backbone']]
        paper = '' if r.get('paper_ms') is None else f"{r['paper_ms']:g}"
        lines.append(
            f"| {r['backbone']} | {r['method']} | {r['batched_min_ms']:.2f} "
            f"| {r['per_image_min_ms']:.2f} | "
            f"{f['batched_min_ms'] + r['batched_min_ms']:.1f} | "
            f"{f['per_image_min_ms'] + r['per_image_min_ms']:.1f} | "
            f'{paper} |')
    return '\n'.join(lines)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--backbones', nargs='+', default=[
        'resnet50', 'vgg16', 'inceptionv3'], choices=sorted(BACKBONES))
    parser.add_argument('--methods', nargs='+', default=list(METHODS),
                        help='registered CAM types, optionally with '
                        'arguments: SmoothGradCAMPlusPlus:samples_per_pass=1 '
                        '(ScoreCAM: opt-in)')
    parser.add_argument('--batch-size', type=int, default=8)
    parser.add_argument('--size', type=int, default=224)
    parser.add_argument('--num-classes', type=int, default=200)
    parser.add_argument('--repeat', type=int, default=5)
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--threads', type=int, default=None,
                        help='torch.set_num_threads (CPU)')
    parser.add_argument('--out', default=None, help='write results as JSON')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    register_all_modules()
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f'# torch {torch.__version__}, {platform.processor() or "cpu"}, '
          f'{torch.get_num_threads()} threads, device {args.device}',
          flush=True)
    results = benchmark(args)
    table = markdown(results, args.batch_size)
    print(table)
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(dict(args=vars(args), results=results), f, indent=1)
    return results


if __name__ == '__main__':
    main()
