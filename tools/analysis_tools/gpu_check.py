"""GPU check: before a day of GPU time, see in a few minutes that both
F-CAM stages run on this CUDA device, how fast, and in how much memory.

    python tools/analysis_tools/gpu_check.py                # ~3 min on one GPU
    python tools/analysis_tools/gpu_check.py --amp --out gpu.json

No dataset is needed: batches are random 224×224 images of CUB's shape
(200 classes, the config's batch size) and the model is the config's with
random weights (no ImageNet download). In order:

1. ``pytest -m cuda tests`` — the tests that need CUDA (skipped elsewhere);
2. stage 1 and stage 2 of ``--config`` (``configs/fcam/resnet50_cub.py``):
   ``--warmup`` + ``--iters`` (20) training iterations each through
   ``model.train_step`` with the config's optimiser (``--amp``: float16
   with dynamic loss scaling, mmengine's AmpOptimWrapper); img/s over the
   timed iterations and peak allocated memory per stage;
3. the config's dense CRF loss, forward + backward on a batch of
   ``--crf-batch`` (32) 224×224 images: seconds per batch (median and
   minimum of ``--repeat`` runs);
4. the F-CAM map at inference (eval, no grad; encoder + decoder), and the
   six CAM methods of the paper's Table F.4 on the same ResNet50 (forward
   + map, from ``benchmark_cams.py``): ms per image, batched and one image
   at a time — the GPU counterpart of docs/benchmarks.md's CPU tables.

Prints each figure as it is measured, then one markdown table (with the
device's name, torch and CUDA versions) for docs/benchmarks.md. Without a
CUDA device it says so and exits with status 2; ``--allow-cpu`` runs the
same code on the CPU as a smoke test (its figures are not GPU figures).
"""
import argparse
import json
import os
import os.path as osp
import subprocess
import sys
import time

import torch

HERE = osp.dirname(osp.abspath(__file__))
ROOT = osp.dirname(osp.dirname(HERE))
sys.path.insert(0, ROOT)

from fcam_mm.registry import MODELS  # noqa: E402
from fcam_mm.structures import WSOLDataSample  # noqa: E402
from fcam_mm.utils import load_script, register_all_modules  # noqa: E402

cams_tool = load_script(osp.join(HERE, 'benchmark_cams.py'))
benchmark_tool = load_script(osp.join(HERE, 'benchmark.py'))

NO_CUDA_EXIT = 2


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog='\n'.join(__doc__.splitlines()[1:]))
    parser.add_argument('--config', default=osp.join(
        ROOT, 'configs', 'fcam', 'resnet50_cub.py'))
    parser.add_argument('--device', default='cuda')
    parser.add_argument('--allow-cpu', action='store_true',
                        help='run on the CPU when there is no CUDA device '
                        '(a smoke test of this script)')
    parser.add_argument('--amp', action='store_true',
                        help='train the stages with mixed precision, as '
                        'tools/train.py --amp')
    parser.add_argument('--skip-tests', action='store_true')
    parser.add_argument('--iters', type=int, default=20,
                        help='timed training iterations per stage')
    parser.add_argument('--warmup', type=int, default=3)
    parser.add_argument('--batch-size', type=int, default=None,
                        help="training batch (default: the config's)")
    parser.add_argument('--size', type=int, default=224)
    parser.add_argument('--num-classes', type=int, default=200)
    parser.add_argument('--crf-batch', type=int, default=32)
    parser.add_argument('--map-batch', type=int, default=32,
                        help='batch of the F-CAM / CAM inference timings')
    parser.add_argument('--repeat', type=int, default=5)
    parser.add_argument('--out', help='also write every figure as JSON')
    return parser.parse_args(argv)


def pick_device(args):
    """The device to measure on, or exit when CUDA is missing."""
    if args.device.startswith('cuda') and not torch.cuda.is_available():
        if not args.allow_cpu:
            print(f'gpu_check: no CUDA device (torch {torch.__version__}, '
                  f'built with CUDA {torch.version.cuda}; '
                  'torch.cuda.is_available() is False). Nothing was '
                  'measured; run it on a machine with a GPU, or with '
                  '--allow-cpu as a smoke test.', file=sys.stderr)
            raise SystemExit(NO_CUDA_EXIT)
        return torch.device('cpu')
    return torch.device(args.device)


def describe(device):
    if device.type == 'cuda':
        name = torch.cuda.get_device_name(device)
        memory = torch.cuda.get_device_properties(device).total_memory
        return (f'{name} ({memory / 2**30:.0f} GiB), torch '
                f'{torch.__version__}, CUDA {torch.version.cuda}, cuDNN '
                f'{torch.backends.cudnn.version()}')
    return (f'CPU ({torch.get_num_threads()} threads), torch '
            f'{torch.__version__} — smoke run, not GPU figures')


def run_cuda_tests():
    tests = osp.join(ROOT, 'tests')
    if not osp.isdir(tests):
        print('cuda tests: no tests/ folder here (an installed package); '
              'skipped', flush=True)
        return dict(returncode=None, summary='not run (no tests/)')
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, '-m', 'pytest', '-m', 'cuda', '-q', '-p',
         'no:cacheprovider', tests], cwd=ROOT, capture_output=True,
        text=True)
    lines = (proc.stdout + proc.stderr).strip().splitlines()
    summary = lines[-1] if lines else ''
    print(f'cuda tests: {summary} (exit {proc.returncode}, '
          f'{time.perf_counter() - start:.0f} s)', flush=True)
    if proc.returncode not in (0, 5):  # 5: nothing collected
        print('\n'.join(lines[-40:]), flush=True)
    return dict(returncode=proc.returncode, summary=summary)


# --------------------------------------------------------------- stages
def build_model_and_optimizer(args, device):
    from mmengine.config import Config
    from mmengine.optim import build_optim_wrapper
    cfg = Config.fromfile(args.config)
    cfg.model.backbone.pop('init_cfg', None)  # random weights
    cfg.model.head.num_classes = args.num_classes
    model = MODELS.build(cfg.model).to(device)
    optim_cfg = cfg.optim_wrapper
    if args.amp:
        if device.type == 'cuda':
            optim_cfg.type = 'AmpOptimWrapper'
            optim_cfg.setdefault('loss_scale', 'dynamic')
        else:
            optim_cfg.type = 'AutocastOptimWrapper'
    optim_wrapper = build_optim_wrapper(model, optim_cfg)
    batch_size = args.batch_size or cfg.train_dataloader.batch_size
    stage2_lr = next(h.stage2_lr for h in cfg.custom_hooks
                     if h.type == 'FCAMStageHook')
    return model, optim_wrapper, batch_size, stage2_lr


def random_batch(batch_size, size, num_classes, seed=0):
    """What the train dataloader yields: uint8 images (as decoded) and
    data samples with a class label."""
    g = torch.Generator().manual_seed(seed)
    inputs = [torch.randint(0, 256, (3, size, size), generator=g,
                            dtype=torch.uint8) for _ in range(batch_size)]
    labels = torch.randint(num_classes, (batch_size, ), generator=g)
    samples = [WSOLDataSample().set_gt_label(int(label)) for label in labels]
    return dict(inputs=inputs, data_samples=samples)


def synchronize(device):
    cams_tool.synchronize(device)


def reset_peak(device):
    if device.type == 'cuda':
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats(device)


def peak_mib(device):
    if device.type == 'cuda':
        return torch.cuda.max_memory_allocated(device) / 2**20
    return None


def train_stage(stage, model, optim_wrapper, data, args, device):
    """``--warmup`` + ``--iters`` training steps of one stage: img/s over
    the timed ones, peak memory, the last losses."""
    model.set_stage(stage)
    model.train()
    reset_peak(device)
    for _ in range(args.warmup):
        model.train_step(data, optim_wrapper)
    synchronize(device)
    start = time.perf_counter()
    for _ in range(args.iters):
        losses = model.train_step(data, optim_wrapper)
    synchronize(device)
    seconds = time.perf_counter() - start
    batch = len(data['inputs'])
    row = dict(stage=stage, batch_size=batch, iters=args.iters,
               seconds=seconds, img_per_s=batch * args.iters / seconds,
               peak_mib=peak_mib(device),
               losses={k: float(v.detach()) for k, v in losses.items()})
    bad = [k for k, v in row['losses'].items() if not v == v or
           abs(v) == float('inf')]
    if bad:
        raise RuntimeError(f'stage {stage}: non-finite {bad} on {device}')
    print(json.dumps(row), flush=True)
    return row


def run_stages(args, device):
    model, optim_wrapper, batch_size, stage2_lr = \
        build_model_and_optimizer(args, device)
    data = random_batch(batch_size, args.size, args.num_classes)
    rows = [train_stage(1, model, optim_wrapper, data, args, device)]
    # what FCAMStageHook does at the switch: stage-2 lr on every group
    for group in optim_wrapper.optimizer.param_groups:
        group['lr'] = stage2_lr
    rows.append(train_stage(2, model, optim_wrapper, data, args, device))
    return model, rows


# ------------------------------------------------------------------ CRF
def run_crf(model, args, device):
    crf = model.crf_loss
    g = torch.Generator().manual_seed(1)
    images = (torch.rand(args.crf_batch, 3, args.size, args.size,
                         generator=g) * 255).to(device)
    logits = torch.randn(args.crf_batch, 2, args.size, args.size,
                         generator=g).to(device).requires_grad_()

    def step():
        crf(logits.softmax(dim=1), images).backward()
        logits.grad = None

    reset_peak(device)
    median, minimum = cams_tool.timed(step, device, args.repeat)
    row = dict(batch=args.crf_batch, size=args.size, median_s=median,
               min_s=minimum, peak_mib=peak_mib(device),
               settings=crf.extra_repr())
    print(json.dumps(row), flush=True)
    return row


# ----------------------------------------------------------------- maps
def run_maps(model, args, device):
    """F-CAM (encoder + decoder) ms per image, batched and one at a time;
    then the six CAM methods through benchmark_cams.py."""
    model.eval()
    num = args.map_batch
    images = torch.randn(num, 3, args.size, args.size, device=device)
    fcam_maps, per_image = benchmark_tool.fcam_maps, cams_tool.per_image
    with torch.no_grad():
        batched = cams_tool.timed(lambda: fcam_maps(model, images), device,
                                  args.repeat)
        single = cams_tool.timed(
            per_image(lambda i: fcam_maps(model, images[i:i + 1]), num),
            device, args.repeat)
    fcam = dict(method='F-CAM', batched_ms=1e3 * batched[1] / num,
                per_image_ms=1e3 * single[1] / num)
    print(json.dumps(fcam), flush=True)
    cam_args = cams_tool.parse_args([
        '--backbones', 'resnet50', '--methods',
        *benchmark_tool.PAPER_BASELINES, '--batch-size', str(num),
        '--size', str(args.size), '--num-classes', str(args.num_classes),
        '--repeat', str(args.repeat), '--device', str(device)])
    cams = benchmark_tool.cam_rows(cams_tool.benchmark(cam_args))
    return dict(fcam=fcam, cams=cams)


def _fmt(value, spec):
    return '' if value is None else format(value, spec)


def markdown(device_text, args, results):
    lines = [f'Device: {device_text}. Config: '
             f'{osp.relpath(args.config, ROOT)}, random weights, '
             f'{args.size}×{args.size}'
             f'{", --amp" if args.amp else ""}.', '',
             '| measurement | value |', '|---|---|']
    for row in results['stages']:
        lines.append(
            f"| stage {row['stage']} training, batch {row['batch_size']} | "
            f"{row['img_per_s']:.1f} img/s, peak "
            f"{_fmt(row['peak_mib'], '.0f') or '–'} MiB |")
    crf = results['crf']
    lines.append(f"| dense CRF loss fwd+bwd, batch {crf['batch']} | "
                 f"{crf['median_s']:.3f} s (min {crf['min_s']:.3f}) |")
    fcam = results['maps']['fcam']
    lines.append(f"| F-CAM map (encoder + decoder), ms/image | "
                 f"{fcam['batched_ms']:.2f} batched "
                 f"(B={args.map_batch}), {fcam['per_image_ms']:.2f} "
                 'one at a time |')
    for row in results['maps']['cams']:
        if row['method'] == 'forward':
            continue
        lines.append(
            f"| {row['method']} (forward + map), ms/image | "
            f"{row['total_batched_ms']:.2f} batched, "
            f"{row['total_per_image_ms']:.2f} one at a time |")
    tests = results.get('tests')
    if tests is not None:
        lines.append(f"| CUDA tests | {tests['summary']} |")
    return '\n'.join(lines)


def main(argv=None):
    args = parse_args(argv)
    device = pick_device(args)
    register_all_modules()
    device_text = describe(device)
    print(f'# gpu_check — {device_text}', flush=True)
    results = dict(device=device_text, args=vars(args))
    if not args.skip_tests:
        results['tests'] = run_cuda_tests()
    torch.manual_seed(0)
    model, results['stages'] = run_stages(args, device)
    results['crf'] = run_crf(model, args, device)
    results['maps'] = run_maps(model, args, device)
    table = markdown(device_text, args, results)
    print('\n' + table, flush=True)
    if args.out:
        os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
        with open(args.out, 'w') as f:
            json.dump(results, f, indent=1)
        print(f'\nwrote {args.out}')
    tests = results.get('tests') or {}
    if tests.get('returncode') not in (None, 0, 5):
        raise SystemExit(1)
    return results


if __name__ == '__main__':
    main()
