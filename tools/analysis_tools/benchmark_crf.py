"""Benchmark the dense-CRF loss: permutohedral lattice vs exact O(N²).

    python tools/analysis_tools/benchmark_crf.py            # full run
    python tools/analysis_tools/benchmark_crf.py --quick    # smaller sizes
    python tools/analysis_tools/benchmark_crf.py --out crf.json

``tools/analysis_tools/benchmark.py crf`` runs it with the CRF settings of
an F-CAM config (``--sigma-rgb``, ``--sigma-xy``, ``--scales``).

Measures, for a batch of ``--batch`` images (default 32, F-CAM's):

1. lattice loss forward+backward at 224×224 (``--scales``, default 1.0 and
   0.5), with the lattice build / filter split, and its peak extra memory;
2. exact dense loss forward+backward on sizes where it is affordable
   (32², 48², 64²), the lattice on the same sizes, and the O(N²)
   extrapolation of the exact loss to 224²;
3. how lattice time and memory scale with the number of pixels (log-log
   slope, ~1 means linear);
4. the lattice's accuracy against the exact filter on the same images, and
   the ratio R(scale 0.5) / R(scale 1.0) (≈ s⁴ = 1/16, see DenseCRFLoss).

Every measurement runs in a fresh child process, so peak memory is that
process's high-water mark (``ru_maxrss``, CPU) or
``torch.cuda.max_memory_allocated`` (CUDA) above what the inputs already
hold. Images: crops of matplotlib's ``grace_hopper.jpg`` sample photo when
matplotlib is installed (``--images photo``, default), else synthetic
piecewise-constant images (``--images synthetic``). Maps: a smooth random
2-class softmax. Times: one warm-up run, then the median (and the
minimum, less sensitive to other processes on a shared machine) of
``--repeat`` runs.
"""
import argparse
import json
import math
import os
import os.path as osp
import platform
import resource
import subprocess
import sys
import time

import torch
import torch.nn.functional as F

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, ROOT)
from fcam_mm.models.losses.dense_crf_loss import DenseCRFLoss  # noqa: E402
from fcam_mm.ops import (PermutohedralLattice, dense_gaussian_filter,  # noqa
                         exact_dense_gaussian_filter, image_features)


# ------------------------------------------------------------------ inputs
def _photo():
    try:
        import matplotlib
        from PIL import Image
    except ImportError:
        return None
    path = osp.join(
        osp.dirname(matplotlib.__file__), 'mpl-data', 'sample_data',
        'grace_hopper.jpg')
    if not osp.exists(path):
        return None
    import numpy as np
    arr = np.array(Image.open(path).convert('RGB'))
    return torch.from_numpy(arr).permute(2, 0, 1).float()


def make_images(kind, batch, size, seed=0):
    """(B, 3, size, size) RGB in 0–255: random crops (and flips) of the
    photo, rescaled so a crop covers ~40–100 % of it, or synthetic."""
    g = torch.Generator().manual_seed(seed)
    photo = _photo() if kind == 'photo' else None
    if photo is None:
        from tests.test_ops.test_permutohedral import synthetic_images
        return synthetic_images(batch, size, size, noise=5, seed=seed).float()
    _, h, w = photo.shape
    crops = []
    for b in range(batch):
        frac = 0.4 + 0.6 * torch.rand(1, generator=g).item()
        side = int(min(h, w) * frac)
        y = torch.randint(0, h - side + 1, (1, ), generator=g).item()
        x = torch.randint(0, w - side + 1, (1, ), generator=g).item()
        crop = photo[None, :, y:y + side, x:x + side]
        crop = F.interpolate(crop, size=(size, size), mode='bilinear',
                             align_corners=False)[0]
        crops.append(crop.flip(-1) if b % 2 else crop)
    return torch.stack(crops).clamp(0, 255)


def make_logits(batch, size, seed=0):
    g = torch.Generator().manual_seed(seed + 1)
    low = torch.randn(batch, 2, max(size // 16, 2), max(size // 16, 2),
                      generator=g) * 3
    return F.interpolate(low, size=(size, size), mode='bilinear',
                         align_corners=False)


# ------------------------------------------------------------ child tasks
def _rss_mib():
    with open('/proc/self/statm') as f:
        return int(f.read().split()[1]) * os.sysconf('SC_PAGE_SIZE') / 2**20


def _peak_mib(device, base):
    if device.type == 'cuda':
        return torch.cuda.max_memory_allocated(device) / 2**20 - base
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 - base


def _sync(device):
    if device.type == 'cuda':
        torch.cuda.synchronize(device)


def child(task):
    device = torch.device(task['device'])
    torch.manual_seed(0)
    size, batch = task['size'], task['batch']
    images = make_images(task['images'], batch, size).to(device)
    logits = make_logits(batch, size).to(device)
    if device.type == 'cuda':
        torch.cuda.reset_peak_memory_stats(device)
        base = torch.cuda.memory_allocated(device) / 2**20
    else:
        base = _rss_mib()
    result = dict(task)
    if task['kind'] in ('lattice', 'exact'):
        loss_fn = DenseCRFLoss(scale_factor=task.get('scale', 1.0),
                               sigma_rgb=task['sigma_rgb'],
                               sigma_xy=task['sigma_xy'],
                               backend=task['kind'])
        times = []
        for _ in range(task['repeat'] + 1):  # the first run warms up
            x = logits.clone().requires_grad_()
            _sync(device)
            t0 = time.perf_counter()
            loss = loss_fn(x.softmax(1), images)
            loss.backward()
            _sync(device)
            times.append(time.perf_counter() - t0)
        times = sorted(times[1:])
        result['time_s'] = times[len(times) // 2]
        result['min_s'] = times[0]
        result['peak_mib'] = _peak_mib(device, base)
        if task['kind'] == 'lattice':  # split: build vs one filter
            s = task.get('scale', 1.0)
            im = F.interpolate(images, scale_factor=s, mode='nearest') \
                if s != 1.0 else images
            probs = logits.softmax(1)
            if s != 1.0:
                probs = F.interpolate(probs, size=im.shape[-2:],
                                      mode='bilinear', align_corners=False)
            _sync(device)
            t0 = time.perf_counter()
            lat = PermutohedralLattice(image_features(
                im, task['sigma_rgb'], task['sigma_xy'] * s))
            _sync(device)
            t1 = time.perf_counter()
            lat.filter(probs)
            _sync(device)
            t2 = time.perf_counter()
            result.update(build_s=t1 - t0, filter_s=t2 - t1,
                          lattice_points=lat.num_lattice_points,
                          simplices=lat.num_simplices)
    elif task['kind'] == 'accuracy':
        probs = logits.softmax(1).double()
        images = images.double()
        out = {}
        srgb = task['sigma_rgb']
        for sxy in (task['sigma_xy'], task['sigma_xy'] * size / 224):
            ex = exact_dense_gaussian_filter(probs, images, srgb, sxy)
            ap = dense_gaussian_filter(probs, images, srgb, sxy)
            k = ((ap * ex).sum() / (ex * ex).sum()).item()
            r_ex = (ex * (1 - probs)).flatten(1).sum(1)
            r_ap = (ap * (1 - probs)).flatten(1).sum(1)
            out[f'{sxy:.1f}'] = dict(
                rel=((ap - ex).norm() / ex.norm()).item(),
                scale=k,
                rel_after_scale=((ap - k * ex).norm() / ex.norm()).item(),
                loss_ratio_min=(r_ap / r_ex).min().item(),
                loss_ratio_max=(r_ap / r_ex).max().item())
        result['accuracy'] = out
    elif task['kind'] == 'scale_ratio':
        probs = logits.softmax(1)
        vals = {}
        for s in (1.0, 0.5):
            vals[s] = DenseCRFLoss(
                loss_weight=1.0, scale_factor=s, sigma_rgb=task['sigma_rgb'],
                sigma_xy=task['sigma_xy'])(probs, images).item()
        result['r1'], result['r05'] = vals[1.0], vals[0.5]
    print('RESULT ' + json.dumps(result))


def run_child(task, threads):
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    out = subprocess.run(
        [sys.executable, __file__, '--child', json.dumps(task)],
        capture_output=True, text=True, env=env)
    for line in out.stdout.splitlines():
        if line.startswith('RESULT '):
            return json.loads(line[7:])
    raise RuntimeError(f'child failed: {task}\n{out.stdout}\n{out.stderr}')


def slope(xs, ys):
    lx, ly = [math.log(x) for x in xs], [math.log(y) for y in ys]
    mx, my = sum(lx) / len(lx), sum(ly) / len(ly)
    return sum((a - mx) * (b - my) for a, b in zip(lx, ly)) / sum(
        (a - mx)**2 for a in lx)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--batch', type=int, default=32)
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available()
                        else 'cpu')
    parser.add_argument('--images', choices=['photo', 'synthetic'],
                        default='photo')
    parser.add_argument('--repeat', type=int, default=3)
    parser.add_argument('--quick', action='store_true')
    parser.add_argument('--sigma-rgb', type=float, default=15.0)
    parser.add_argument('--sigma-xy', type=float, default=100.0,
                        help='in pixels of the input resolution')
    parser.add_argument('--scales', type=float, nargs='+',
                        default=[1.0, 0.5],
                        help='CRF scale factors of section 1')
    parser.add_argument('--size', type=int, default=None,
                        help='input size of sections 1 and 4 (default 224, '
                        '160 with --quick)')
    parser.add_argument('--out', help='write the results as JSON')
    parser.add_argument('--child', help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv=None):
    """Run the benchmark, print its tables and return the measurements
    (the JSON of ``--out``)."""
    args = parse_args(argv)
    if args.child:
        child(json.loads(args.child))
        return None
    threads = torch.get_num_threads()
    cpu = platform.processor() or platform.machine()
    try:
        with open('/proc/cpuinfo') as f:
            cpu = next(l.split(':', 1)[1].strip() for l in f
                       if l.startswith('model name'))
    except (OSError, StopIteration):
        pass
    dev_name = torch.cuda.get_device_name() if args.device == 'cuda' else cpu
    print(f'# dense CRF benchmark — torch {torch.__version__}, device '
          f'{args.device} ({dev_name}), {os.cpu_count()} CPUs, {threads} '
          f'threads, batch {args.batch}, {args.images} images, median of '
          f'{args.repeat}')
    base = dict(device=args.device, batch=args.batch, images=args.images,
                repeat=args.repeat, sigma_rgb=args.sigma_rgb,
                sigma_xy=args.sigma_xy)
    big = args.size or (160 if args.quick else 224)
    results = dict(settings=dict(base, device_name=dev_name,
                                 threads=threads, size=big),
                   lattice=[], exact=[], scaling=[])

    print(f'\n## 1. lattice loss, forward + backward (σ_rgb '
          f'{args.sigma_rgb:g}, σ_xy {args.sigma_xy:g})')
    print('| input | scale | pixels/batch | time (s), median / min '
          '| build (s) | 1 filter (s) | lattice points '
          '| peak extra memory (MiB) |')
    print('|---|---|---|---|---|---|---|---|')
    main_res = {}
    for scale in args.scales:
        r = run_child(dict(base, kind='lattice', size=big, scale=scale),
                      threads)
        main_res[scale] = r
        results['lattice'].append(r)
        px = args.batch * int(big * scale)**2
        print(f'| {args.batch}×2×{big}×{big} | {scale} | {px:,} | '
              f'{r["time_s"]:.3f} / {r["min_s"]:.3f} | {r["build_s"]:.3f} | '
              f'{r["filter_s"]:.3f} | {r["lattice_points"]:,} | '
              f'{r["peak_mib"]:.0f} |')

    print('\n## 2. exact O(N²) loss vs lattice, forward + backward')
    print('| size | pixels/batch | exact (s) | exact peak (MiB) | lattice (s) '
          '| lattice peak (MiB) | exact / lattice |')
    print('|---|---|---|---|---|---|---|')
    sizes = (32, 48) if args.quick else (32, 48, 64)
    ex_t, ex_n = [], []
    for size in sizes:
        e = run_child(dict(base, kind='exact', size=size, repeat=1), threads)
        lt = run_child(dict(base, kind='lattice', size=size), threads)
        ex_t.append(e['time_s'])
        ex_n.append(size * size)
        results['exact'].append(dict(exact=e, lattice=lt))
        print(f'| {size}×{size} | {args.batch * size * size:,} | '
              f'{e["time_s"]:.3f} | {e["peak_mib"]:.0f} | {lt["time_s"]:.3f} '
              f'| {lt["peak_mib"]:.0f} | {e["time_s"] / lt["time_s"]:.1f}× |')
    p = slope(ex_n, ex_t)
    extrap = ex_t[-1] * (big * big / ex_n[-1])**2
    w_gib = args.batch * (big * big)**2 * 4 / 2**30
    first = main_res[args.scales[0]]
    results['exact_fit'] = dict(
        exponent=p, extrapolated_s=extrap, size=big, scale=args.scales[0],
        vs_lattice=extrap / first['time_s'], w_float32_gib=w_gib)
    print(f'\nexact time ∝ N^{p:.2f} over these sizes; O(N²) extrapolation '
          f'to {big}×{big}: {extrap:,.0f} s per batch '
          f'({extrap / first["time_s"]:,.0f}× the lattice at scale '
          f'{args.scales[0]:g}); storing '
          f'W in float32 would need {w_gib:,.0f} GiB per batch '
          f'({w_gib / args.batch:.1f} GiB per image).')

    print('\n## 3. lattice scaling with the number of pixels '
          f'(σ_xy {args.sigma_xy:g} at every size)')
    print('| size | pixels/batch | time (s), median / min | µs / pixel (min) '
          '| peak extra memory (MiB) | bytes / pixel |')
    print('|---|---|---|---|---|---|')
    sizes = (56, 112, 160) if args.quick else (56, 112, 160, 224, 320)
    xs, ts, ms = [], [], []
    for size in sizes:
        r = run_child(dict(base, kind='lattice', size=size), threads)
        px = args.batch * size * size
        xs.append(px)
        ts.append(r['min_s'])
        ms.append(max(r['peak_mib'], 1e-3))
        results['scaling'].append(r)
        print(f'| {size}×{size} | {px:,} | {r["time_s"]:.3f} / '
              f'{r["min_s"]:.3f} | {r["min_s"] / px * 1e6:.2f} | '
              f'{r["peak_mib"]:.0f} | '
              f'{r["peak_mib"] * 2**20 / px:.0f} |')
    results['scaling_slopes'] = dict(time=slope(xs, ts), memory=slope(xs, ms))
    print(f'\nlog-log slope: time (min) ∝ pixels^{slope(xs, ts):.2f}, '
          f'memory ∝ pixels^{slope(xs, ms):.2f}')

    print('\n## 4. accuracy against the exact filter (photo crops, float64)')
    size = 48 if args.quick else 64
    acc = run_child(dict(base, kind='accuracy', size=size,
                         batch=min(args.batch, 8)), threads)['accuracy']
    results['accuracy'] = dict(size=size, by_sigma_xy=acc)
    print('| size | σ_xy | rel. error ‖W̃S−WS‖/‖WS‖ | best scale k | error '
          'after k | R lattice / R exact (per image) |')
    print('|---|---|---|---|---|---|')
    for sxy, a in acc.items():
        print(f'| {size}×{size} | {sxy} | {a["rel"]:.3f} | {a["scale"]:.3f} '
              f'| {a["rel_after_scale"]:.3f} | {a["loss_ratio_min"]:.3f}–'
              f'{a["loss_ratio_max"]:.3f} |')
    r = run_child(dict(base, kind='scale_ratio', size=big), threads)
    results['scale_ratio'] = dict(r1=r['r1'], r05=r['r05'],
                                  ratio=r['r1'] / r['r05'])
    print(f'\nR(scale 1.0) / R(scale 0.5) at {big}×{big}: '
          f'{r["r1"] / r["r05"]:.1f} (s⁻⁴ = 16); λ·R(scale 1.0)/B with λ = '
          f'2e-9: {2e-9 * r["r1"]:.4f}')
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(results, f, indent=1)
    return results


if __name__ == '__main__':
    main()
