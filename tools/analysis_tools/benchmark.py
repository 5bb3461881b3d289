"""F-CAM benchmark: the full-resolution F-CAM map against the CAM methods
on the same backbone, and the dense-CRF loss against its exact O(N²) form.

Two sections, each run by a tool of its own that this one imports:

``maps`` — ms per image (224×224, random weights, eval mode,
``torch.no_grad()``) of

- the F-CAM map, ``softmax(decoder(backbone(x)))[:, 1]`` with the decoder
  of the F-CAM config of that backbone (``configs/_base_/models/
  fcam_{backbone}.py``, Table F.2): *map* = the decoder once the backbone's
  features exist, *forward + map* = the encoder and the decoder, measured
  in one call — a single forward, no backward;
- every CAM method, from ``benchmark_cams.py`` (*map*: the CAM of the
  target class, its backward for gradient methods, the bicubic resize;
  *forward + map*: plus the classifier's forward),

batched (one call for ``--batch-size`` images) and per image; then the
ratio of each method's time to F-CAM's and to the mean of the paper's six
baselines (Table F.4's "Mean" vs "ours + STDCL"), next to the paper's ms.

``crf`` — ``benchmark_crf.py`` with the CRF settings of ``--config``
(σ_rgb, σ_xy, scale): the lattice loss forward + backward on a batch of
``--crf-batch`` (32, F-CAM's) at the configured resolution, its time and
peak memory against the exact dense loss (measured on small sizes,
extrapolated with N²), and how its time and memory scale with the number
of pixels (log-log slope; 1 is linear).

Examples::

    python tools/analysis_tools/benchmark.py                  # both, CPU
    python tools/analysis_tools/benchmark.py maps --device cuda \\
        --batch-size 32 --out maps.json
    python tools/analysis_tools/benchmark.py crf --config \\
        configs/fcam/resnet50_cub.py --crf-repeat 5
    # smoke test, tiny sizes:
    python tools/analysis_tools/benchmark.py --backbones tinyresnet \\
        --methods CAM GradCAM --batch-size 2 --repeat 1 --size 64 \\
        --crf-batch 2 --crf-quick --crf-repeat 1 --out smoke.json
"""
import argparse
import json
import os.path as osp
import platform
import statistics
import sys

import torch

HERE = osp.dirname(osp.abspath(__file__))
ROOT = osp.dirname(osp.dirname(HERE))
sys.path.insert(0, ROOT)
from fcam_mm.models.decoders import count_parameters  # noqa: E402
from fcam_mm.registry import MODELS  # noqa: E402
from fcam_mm.utils import load_script, register_all_modules  # noqa: E402

cams_tool = load_script(osp.join(HERE, 'benchmark_cams.py'))
crf_tool = load_script(osp.join(HERE, 'benchmark_crf.py'))

#: The F-CAM model base of each backbone (its decoder is the one timed).
FCAM_MODELS = {
    'resnet50': 'configs/_base_/models/fcam_resnet50.py',
    'vgg16': 'configs/_base_/models/fcam_vgg16.py',
    'inceptionv3': 'configs/_base_/models/fcam_inceptionv3.py',
    'tinyresnet': 'configs/_base_/models/fcam_tinyresnet.py',
}
#: Table F.4, "ours + STDCL" and the "Mean" of the six baselines, ms per
#: image on a P100 (VGG16, Inception, ResNet50).
PAPER_FCAM_MS = (6.2, 25.5, 18.5)
PAPER_MEAN_MS = (16.6, 38.8, 37.4)
#: The six baselines of the paper (the "Mean" row of Table F.4).
PAPER_BASELINES = ('CAM', 'GradCAM', 'GradCAMPlusPlus',
                   'SmoothGradCAMPlusPlus', 'XGradCAM', 'LayerCAM')
SECTIONS = ('maps', 'crf')


# ------------------------------------------------------------------ maps
def build_fcam(backbone, num_classes, device):
    """The F-CAM model of ``backbone``'s config base, randomly initialised
    (no ImageNet weights are fetched)."""
    from mmengine.config import Config
    cfg = Config.fromfile(osp.join(ROOT, FCAM_MODELS[backbone])).model
    cfg.backbone.pop('init_cfg', None)
    cfg.head.num_classes = num_classes
    return MODELS.build(cfg).to(device).eval()


def fcam_maps(model, images, feats=None):
    """Full-resolution F-CAM maps (B, H, W); ``feats``: the backbone's
    outputs if already computed (then only the decoder runs)."""
    if feats is None:
        feats = model.extract_feat(images)
    logits = model.decoder(feats, images.shape[-2:])
    return logits.softmax(dim=1)[:, 1]


def benchmark_fcam(args):
    """One row per backbone: the decoder alone (*map*) and encoder +
    decoder (*forward + map*), batched and per image, in ms per image."""
    device = torch.device(args.device)
    rows = []
    for backbone in args.backbones:
        torch.manual_seed(0)
        model = build_fcam(backbone, args.num_classes, device)
        num = args.batch_size
        images = torch.randn(num, 3, args.size, args.size, device=device)
        timed, per_image = cams_tool.timed, cams_tool.per_image
        with torch.no_grad():
            feats = model.extract_feat(images)
            singles = [model.extract_feat(images[i:i + 1])
                       for i in range(num)]
            decoder = timed(lambda: fcam_maps(model, images, feats), device,
                            args.repeat)
            decoder_single = timed(
                per_image(lambda i: fcam_maps(model, images[i:i + 1],
                                              singles[i]), num),
                device, args.repeat)
            full = timed(lambda: fcam_maps(model, images), device,
                         args.repeat)
            full_single = timed(
                per_image(lambda i: fcam_maps(model, images[i:i + 1]), num),
                device, args.repeat)
        row = dict(
            backbone=backbone, method='F-CAM',
            decoder_params_m=count_parameters(model.decoder) / 1e6,
            map_batched_ms=1e3 * decoder[1] / num,
            map_per_image_ms=1e3 * decoder_single[1] / num,
            total_batched_ms=1e3 * full[1] / num,
            total_per_image_ms=1e3 * full_single[1] / num,
            total_batched_median_ms=1e3 * full[0] / num)
        column = cams_tool.PAPER_COLUMN.get(backbone)
        if column is not None:
            row['paper_ms'] = PAPER_FCAM_MS[column]
            row['paper_mean_ms'] = PAPER_MEAN_MS[column]
        print(json.dumps(row), flush=True)
        rows.append(row)
    return rows


def cam_rows(results):
    """``benchmark_cams`` results as rows with the F-CAM row's keys (the
    minimum over the runs, ms per image): *map* and *forward + map*."""
    forward = {r['backbone']: r for r in results if r['method'] == 'forward'}
    rows = []
    for r in results:
        if r['method'] == 'forward':
            continue
        f = forward[r['backbone']]
        rows.append(dict(
            backbone=r['backbone'], method=r['method'],
            map_batched_ms=r['batched_min_ms'],
            map_per_image_ms=r['per_image_min_ms'],
            total_batched_ms=f['batched_min_ms'] + r['batched_min_ms'],
            total_per_image_ms=f['per_image_min_ms'] + r['per_image_min_ms'],
            paper_ms=r.get('paper_ms')))
    return rows


def compare(fcam, cams):
    """Per backbone: each method's forward + map time over F-CAM's (> 1:
    the method is slower), batched and per image, and the mean of the
    paper's six baselines (those measured) over F-CAM."""
    out = []
    for f in fcam:
        mine = [c for c in cams if c['backbone'] == f['backbone']]
        for key in ('total_batched_ms', 'total_per_image_ms'):
            for c in mine:
                c[f'{key[:-3]}_vs_fcam'] = c[key] / f[key]
        six = [c for c in mine if c['method'] in PAPER_BASELINES]
        if six:
            mean = dict(
                backbone=f['backbone'],
                methods=[c['method'] for c in six],
                mean_total_batched_ms=statistics.fmean(
                    c['total_batched_ms'] for c in six),
                mean_total_per_image_ms=statistics.fmean(
                    c['total_per_image_ms'] for c in six))
            mean['mean_vs_fcam_batched'] = \
                mean['mean_total_batched_ms'] / f['total_batched_ms']
            mean['mean_vs_fcam_per_image'] = \
                mean['mean_total_per_image_ms'] / f['total_per_image_ms']
            if 'paper_ms' in f:
                mean['paper_mean_vs_fcam'] = f['paper_mean_ms'] / \
                    f['paper_ms']
            out.append(mean)
    return out


def _cell(value, fmt):
    return '' if value is None else format(value, fmt)


def maps_markdown(fcam, cams, means, batch_size):
    lines = [
        f'| backbone | method | map, batched (B={batch_size}) | map, per '
        'image | forward + map, batched | forward + map, per image | '
        'method ÷ F-CAM, batched | method ÷ F-CAM, per image | '
        'paper, Table F.4 (P100) ms |',
        '|---|---|---|---|---|---|---|---|---|',
    ]

    def row(backbone, name, r, paper):
        lines.append('| ' + ' | '.join([
            backbone, name, _cell(r.get('map_batched_ms'), '.2f'),
            _cell(r.get('map_per_image_ms'), '.2f'),
            _cell(r['total_batched_ms'], '.1f'),
            _cell(r['total_per_image_ms'], '.1f'),
            _cell(r['total_batched_vs_fcam'], '.2f'),
            _cell(r['total_per_image_vs_fcam'], '.2f'), paper]) + ' |')

    for f in fcam:
        backbone = f['backbone']
        row(backbone, f"**F-CAM** (decoder {f['decoder_params_m']:.1f} M)",
            dict(f, total_batched_vs_fcam=1.0, total_per_image_vs_fcam=1.0),
            _cell(f.get('paper_ms'), 'g'))
        for c in cams:
            if c['backbone'] == backbone:
                row(backbone, c['method'], c, _cell(c.get('paper_ms'), 'g'))
        for m in means:
            if m['backbone'] != backbone:
                continue
            paper = m.get('paper_mean_vs_fcam')
            row(backbone,
                f"*mean of the paper's baselines ({len(m['methods'])})*",
                dict(total_batched_ms=m['mean_total_batched_ms'],
                     total_per_image_ms=m['mean_total_per_image_ms'],
                     total_batched_vs_fcam=m['mean_vs_fcam_batched'],
                     total_per_image_vs_fcam=m['mean_vs_fcam_per_image']),
                '' if paper is None else f'÷ F-CAM: {paper:.2f}')
    return '\n'.join(lines)


def run_maps(args):
    fcam = benchmark_fcam(args)
    cam_argv = ['--backbones', *args.backbones, '--methods', *args.methods,
                '--batch-size', str(args.batch_size), '--size',
                str(args.size), '--num-classes', str(args.num_classes),
                '--repeat', str(args.repeat), '--device', args.device]
    cams = cam_rows(cams_tool.benchmark(cams_tool.parse_args(cam_argv)))
    means = compare(fcam, cams)
    print('\n## F-CAM map vs CAM methods, ms per image (minimum of '
          f'{args.repeat} runs)\n')
    print(maps_markdown(fcam, cams, means, args.batch_size), flush=True)
    return dict(fcam=fcam, cams=cams, means=means)


# ------------------------------------------------------------------- crf
def crf_settings(config):
    """σ_rgb, σ_xy and the scale of ``config``'s CRF loss."""
    from mmengine.config import Config
    crf = Config.fromfile(config).model.get('crf_loss')
    if crf is None:
        raise ValueError(f'{config} has no model.crf_loss to benchmark')
    return (float(crf.get('sigma_rgb', 15.0)),
            float(crf.get('sigma_xy', 100.0)),
            float(crf.get('scale_factor', 1.0)))


def run_crf(args):
    sigma_rgb, sigma_xy, scale = crf_settings(args.config)
    print(f'\n## dense CRF loss of {osp.relpath(args.config, ROOT)}: '
          f'σ_rgb {sigma_rgb:g}, σ_xy {sigma_xy:g}, scale {scale:g}',
          flush=True)
    # the configured scale first (the exact-vs-lattice ratio uses it), and
    # Tang et al.'s 0.5 for comparison
    scales = [scale] + [s for s in (1.0, 0.5) if s != scale]
    argv = ['--batch', str(args.crf_batch), '--repeat', str(args.crf_repeat),
            '--device', args.device, '--images', args.crf_images,
            '--sigma-rgb', str(sigma_rgb), '--sigma-xy', str(sigma_xy),
            '--scales', *map(str, scales)]
    if args.crf_quick:
        argv.append('--quick')
    results = crf_tool.main(argv)
    results['config'] = osp.relpath(args.config, ROOT)
    return results


# ------------------------------------------------------------------ main
def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog='\n'.join(__doc__.splitlines()[1:]))
    parser.add_argument('sections', nargs='*', metavar='{maps,crf}',
                        help='what to run (default: both)')
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--threads', type=int, default=None,
                        help='torch.set_num_threads (CPU)')
    parser.add_argument('--out', help='write every measurement as JSON')
    maps = parser.add_argument_group('maps')
    maps.add_argument('--backbones', nargs='+', default=[
        'resnet50', 'vgg16', 'inceptionv3'], choices=sorted(FCAM_MODELS))
    maps.add_argument('--methods', nargs='+', default=list(PAPER_BASELINES),
                      help='CAM methods to compare with (registered types, '
                      'optionally Type:key=value,...)')
    maps.add_argument('--batch-size', type=int, default=8)
    maps.add_argument('--size', type=int, default=224)
    maps.add_argument('--num-classes', type=int, default=200)
    maps.add_argument('--repeat', type=int, default=5)
    crf = parser.add_argument_group('crf')
    crf.add_argument('--config', default=osp.join(
        ROOT, 'configs', 'fcam', 'resnet50_cub.py'),
                     help='F-CAM config whose model.crf_loss is measured')
    crf.add_argument('--crf-batch', type=int, default=32)
    crf.add_argument('--crf-repeat', type=int, default=3)
    crf.add_argument('--crf-images', choices=['photo', 'synthetic'],
                     default='photo')
    crf.add_argument('--crf-quick', action='store_true',
                     help="benchmark_crf.py's smaller sizes")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.sections) - set(SECTIONS))
    if unknown:
        parser.error(f'unknown section(s) {unknown}; choose from '
                     f'{", ".join(SECTIONS)}')
    args.sections = list(dict.fromkeys(args.sections or SECTIONS))
    return args


def main(argv=None):
    args = parse_args(argv)
    register_all_modules()
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f'# F-CAM benchmark — torch {torch.__version__}, '
          f'{platform.processor() or platform.machine()}, '
          f'{torch.get_num_threads()} threads, device {args.device}',
          flush=True)
    results = dict(args={k: v for k, v in vars(args).items()})
    if 'maps' in args.sections:
        results['maps'] = run_maps(args)
    if 'crf' in args.sections:
        results['crf'] = run_crf(args)
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(results, f, indent=1)
        print(f'\nwrote {args.out}')
    return results


if __name__ == '__main__':
    main()
