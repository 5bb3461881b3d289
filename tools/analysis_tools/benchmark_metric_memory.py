"""Peak memory and time of the WSOL metrics over an ImageNet-size split.

Feeds N random 224x224 float32 score maps with random GT boxes (and, for
PxAP, random GT masks at 224) through mmengine's ``Evaluator`` the way the
val / test loop does — ``evaluator.process(data_samples=...,
data_batch=...)`` with :class:`WSOLDataSample` objects, which the
evaluator turns into dicts, then ``evaluator.evaluate(N)`` — and
measures, in a fresh child process per (metric, N):

* the child's peak RSS (``ru_maxrss``) and its peak above the baseline
  taken after the imports and the setup (metric, evaluator, generator);
* the RSS growth inside the run: current RSS when the last sample has been
  processed minus current RSS after the first 10 % of the samples;
* the wall time (samples generated on the fly, batch by batch, so the
  generator holds one batch: O(batch) memory) and the time spent in the
  metric alone (``process`` + ``evaluate``).

It prints one markdown table and, per metric, RSS(largest N) / RSS(smallest
N). ``--metrics box-keep-results`` is a control: the box metric that also
keeps every sample's statistics in ``self.results`` (what mmengine's
``BaseMetric`` does by default), to show what linear growth looks like.

Example::

    python tools/analysis_tools/benchmark_metric_memory.py  # 1k, 10k, 50k
    python tools/analysis_tools/benchmark_metric_memory.py --quick
    python tools/analysis_tools/benchmark_metric_memory.py \\
        --metrics box-keep-results --sizes 1000 10000
"""
import argparse
import json
import os
import os.path as osp
import platform
import resource
import subprocess
import sys
import time

import numpy as np

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, ROOT)

SIZES = (1000, 10000, 50000)
QUICK_SIZES = (16, 64)
EVAL_SIZE = 224
MAP_KINDS = ('cam7', 'cam28', 'blobs', 'noise')
CONTROL = 'box-keep-results'
METRICS = ('box', 'pixel', CONTROL)
RESULT_TAG = 'RESULT '


def metrics_tool():
    """``benchmark_metrics.py``, whose map and box generators these runs
    share (loaded once, on first use)."""
    global _METRICS_TOOL
    if _METRICS_TOOL is None:
        from fcam_mm.utils import load_script
        _METRICS_TOOL = load_script(
            osp.join(osp.dirname(osp.abspath(__file__)),
                     'benchmark_metrics.py'))
    return _METRICS_TOOL


_METRICS_TOOL = None


# --------------------------------------------------------------------------
# memory probes
# --------------------------------------------------------------------------
def peak_rss_mib() -> float:
    """High-water resident set size of this process (``ru_maxrss``)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # kilobytes on Linux, bytes on macOS
    return peak / 2**20 if sys.platform == 'darwin' else peak / 1024


def current_rss_mib() -> float:
    """Resident set size now (``/proc/self/statm``; NaN elsewhere)."""
    try:
        with open('/proc/self/statm') as f:
            pages = int(f.read().split()[1])
    except (OSError, ValueError, IndexError):
        return float('nan')
    return pages * os.sysconf('SC_PAGE_SIZE') / 2**20


# --------------------------------------------------------------------------
# random inputs, generated batch by batch
# --------------------------------------------------------------------------
def random_map(rng, kind, size=EVAL_SIZE):
    """A float32 map at ``size``: the CAM-like families of
    ``benchmark_metrics.py`` (``cam7``, ``cam28``, ``blobs``) or i.i.d.
    uniform noise (``noise``, the worst case for the box metric: thousands
    of components per level)."""
    if kind == 'noise':
        return rng.random((size, size), dtype=np.float32)
    return metrics_tool().random_map(rng, kind, size)


def random_boxes(rng, size=EVAL_SIZE):
    return metrics_tool().random_boxes(rng, size)


def random_mask(rng, cam):
    """Object where the map is above a random fraction of its maximum,
    an ignore (255) rectangle over part of the background."""
    mask = (cam > rng.uniform(0.3, 0.8) * cam.max()).astype(np.uint8)
    size = cam.shape[0]
    x0, y0 = rng.integers(0, size - 16, 2)
    w, h = rng.integers(8, 48, 2)
    band = mask[y0:y0 + h, x0:x0 + w]
    band[band == 0] = 255
    return mask


def make_sample(rng, index, kind, num_classes, with_mask):
    """What the model hands the evaluator for one image (predict mode):
    GT from the pipeline, ``pred_score`` and ``cam`` from the localizer."""
    import torch
    from fcam_mm.structures import WSOLDataSample
    cam = random_map(rng, kind)
    sample = WSOLDataSample(metainfo=dict(sample_idx=index,
                                          ori_shape=(EVAL_SIZE, EVAL_SIZE),
                                          img_shape=(EVAL_SIZE, EVAL_SIZE)))
    sample.set_gt_label(int(rng.integers(num_classes)))
    sample.set_gt_bboxes(random_boxes(rng))
    if with_mask:
        sample.gt_mask = random_mask(rng, cam)
    logits = torch.from_numpy(
        rng.standard_normal(num_classes, dtype=np.float32))
    sample.set_pred_score(logits.softmax(0))
    sample.cam = torch.from_numpy(cam)
    return sample


def batches(n, batch_size, kind, seed, num_classes, with_mask):
    """``n`` samples in batches; only the current batch is alive."""
    rng = np.random.default_rng(seed)
    done = 0
    while done < n:
        m = min(batch_size, n - done)
        yield [
            make_sample(rng, done + i, kind, num_classes, with_mask)
            for i in range(m)
        ]
        done += m


# --------------------------------------------------------------------------
# one (metric, N) run, in its own process
# --------------------------------------------------------------------------
def build_metric(name):
    from fcam_mm.evaluation import (BoxLocalizationMetric,
                                    PixelLocalizationMetric)
    if name == 'box':
        return BoxLocalizationMetric()
    if name == 'pixel':
        return PixelLocalizationMetric()
    if name == CONTROL:

        class KeepResults(BoxLocalizationMetric):
            """Control: also keeps every sample's statistics, as mmengine's
            BaseMetric keeps one entry per sample in ``self.results``."""

            def _push(self, stats):
                self.results.append(stats)
                super()._push(stats)

        return KeepResults()
    raise ValueError(f'unknown metric {name!r}')


def run_child(args):
    from mmengine.evaluator import Evaluator
    name, n = args.child_metric, args.child_n
    evaluator = Evaluator([build_metric(name)])
    stream = batches(n, args.batch_size, args.map_kind, args.seed,
                     args.num_classes, name == 'pixel')
    baseline = peak_rss_mib()
    first_tenth = max(1, n // 10)
    rss_first = rss_last = float('nan')
    t_metric = 0.0
    done = 0
    t_start = time.perf_counter()
    for samples in stream:
        t0 = time.perf_counter()
        # the val loop's call; the metrics never read data_batch (images
        # left out: they would only add the same batch to every run)
        evaluator.process(data_samples=samples,
                          data_batch=dict(inputs=[], data_samples=samples))
        t_metric += time.perf_counter() - t0
        previous, done = done, done + len(samples)
        if previous < first_tenth <= done:
            rss_first = current_rss_mib()
        del samples
    rss_last = current_rss_mib()
    t0 = time.perf_counter()
    metrics = evaluator.evaluate(n)
    t_end = time.perf_counter()
    t_metric += t_end - t0
    result = dict(metric=name,
                  n=n,
                  baseline_mib=baseline,
                  peak_mib=peak_rss_mib(),
                  rss_first_tenth_mib=rss_first,
                  rss_last_mib=rss_last,
                  seconds=t_end - t_start,
                  metric_seconds=t_metric,
                  metrics={
                      k: float(v)
                      for k, v in metrics.items()
                  })
    print(RESULT_TAG + json.dumps(result), flush=True)


def spawn_child(args, metric, n):
    """Run one measurement in a fresh interpreter; its result dict."""
    cmd = [
        sys.executable,
        osp.abspath(__file__), '--child-metric', metric, '--child-n',
        str(n), '--map-kind', args.map_kind, '--batch-size',
        str(args.batch_size), '--seed',
        str(args.seed), '--num-classes',
        str(args.num_classes)
    ]
    env = dict(os.environ)
    env.setdefault('OMP_NUM_THREADS', '1')
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    lines = [
        line for line in proc.stdout.splitlines()
        if line.startswith(RESULT_TAG)
    ]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f'{metric} at N={n} failed (exit '
                           f'{proc.returncode}):\n{proc.stderr[-4000:]}')
    return json.loads(lines[-1][len(RESULT_TAG):])


# --------------------------------------------------------------------------
# report
# --------------------------------------------------------------------------
def fmt_n(n):
    return f'{n // 1000}k' if n >= 1000 and n % 1000 == 0 else str(n)


def rate(n, seconds):
    per_second = n / seconds
    return f'{per_second:.0f}' if per_second >= 10 else f'{per_second:.2f}'


def table(rows):
    ref = {}
    lines = [
        '| metric | N | peak RSS (MiB) | peak over baseline (MiB) | '
        'extra over smallest N (MiB) | RSS growth, 10 % → 100 % of the '
        'samples (MiB) | seconds (total) | seconds (metric) | maps/s '
        '(metric) |', '|---|---|---|---|---|---|---|---|---|'
    ]
    for r in rows:
        ref.setdefault(r['metric'], r)
        growth = r['rss_last_mib'] - r['rss_first_tenth_mib']
        lines.append(
            f"| {r['metric']} | {fmt_n(r['n'])} | {r['peak_mib']:.1f} | "
            f"{r['peak_mib'] - r['baseline_mib']:.1f} | "
            f"{r['peak_mib'] - ref[r['metric']]['peak_mib']:+.1f} | "
            f'{growth:+.1f} | {r["seconds"]:.1f} | '
            f"{r['metric_seconds']:.1f} | "
            f"{rate(r['n'], r['metric_seconds'])} |")
    return '\n'.join(lines)


def ratios(rows, tolerance_mib):
    """Per metric: RSS(largest) / RSS(smallest), and whether it is flat
    (peak grows by at most ``tolerance_mib``)."""
    by_metric = {}
    for r in rows:
        by_metric.setdefault(r['metric'], []).append(r)
    out = {}
    for name, rs in by_metric.items():
        small, large = rs[0], rs[-1]
        extra = large['peak_mib'] - small['peak_mib']
        over_small = small['peak_mib'] - small['baseline_mib']
        over_large = large['peak_mib'] - large['baseline_mib']
        out[name] = dict(
            small=small['n'],
            large=large['n'],
            ratio=large['peak_mib'] / small['peak_mib'],
            ratio_over_baseline=(over_large / over_small
                                 if over_small > 0 else float('nan')),
            extra=extra,
            flat=extra <= tolerance_mib)
    return out


def load_average():
    try:
        return '/'.join(f'{v:.2f}' for v in os.getloadavg())
    except OSError:
        return 'n/a'


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--sizes',
                        type=int,
                        nargs='+',
                        default=None,
                        help=f'N for every metric (default {SIZES})')
    parser.add_argument('--quick',
                        action='store_true',
                        help=f'N = {QUICK_SIZES} (a smoke run for tests)')
    parser.add_argument('--metrics',
                        nargs='+',
                        choices=METRICS,
                        default=['box', 'pixel'],
                        help=f'{CONTROL}: a control, the box metric keeping '
                        'every sample\'s statistics in self.results (what '
                        'mmengine\'s BaseMetric does): linear growth')
    parser.add_argument('--map-kind', choices=MAP_KINDS, default='cam7')
    parser.add_argument('--batch-size', type=int, default=32)
    parser.add_argument('--num-classes', type=int, default=1000)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--tolerance-mib',
                        type=float,
                        default=16.,
                        help='largest growth of the peak RSS from the '
                        'smallest to the largest N still called flat')
    parser.add_argument('--child-metric', help=argparse.SUPPRESS)
    parser.add_argument('--child-n', type=int, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    if args.child_metric:
        run_child(args)
        return None
    sizes = args.sizes or (QUICK_SIZES if args.quick else SIZES)
    sizes = sorted(set(sizes))
    if sizes[0] < 1 or args.batch_size < 1:
        raise SystemExit('sizes and --batch-size must be positive')
    import cv2
    import torch
    print(f'machine: {platform.machine()} {platform.processor() or ""}, '
          f'{os.cpu_count()} CPUs, Python {platform.python_version()}, '
          f'NumPy {np.__version__}, OpenCV {cv2.__version__}, torch '
          f'{torch.__version__}, OMP_NUM_THREADS='
          f'{os.environ.get("OMP_NUM_THREADS", "unset (1 in the children)")}'
          f'; load average (1/5/15 min) at start: {load_average()}')
    print(f'maps: {args.map_kind}, {EVAL_SIZE}x{EVAL_SIZE} float32, '
          f'batches of {args.batch_size}, {args.num_classes} classes, '
          f'seed {args.seed}; one fresh process per row')
    rows = []
    for name in dict.fromkeys(args.metrics):
        for n in sizes:
            r = spawn_child(args, name, n)
            rows.append(r)
            print(
                f'  {name} N={n}: peak {r["peak_mib"]:.1f} MiB, '
                f'{r["seconds"]:.1f} s',
                flush=True)
    print()
    print(table(rows))
    print()
    summary = ratios(rows, args.tolerance_mib)
    for name, s in summary.items():
        print(f'{name}: RSS({fmt_n(s["large"])}) / RSS({fmt_n(s["small"])}) '
              f'= {s["ratio"]:.3f} (peak over baseline: '
              f'{s["ratio_over_baseline"]:.2f}); extra {s["extra"]:+.1f} '
              f'MiB: {"flat" if s["flat"] else "NOT flat"} (tolerance '
              f'{args.tolerance_mib:g} MiB)')
    for r in rows:
        if r['n'] == sizes[-1]:
            print(f'{r["metric"]} at N={r["n"]}: ' +
                  ', '.join(f'{k}={v:.4g}' for k, v in r['metrics'].items()))
    print(f'load average at the end: {load_average()}')
    return dict(rows=rows, summary=summary)


if __name__ == '__main__':
    main()
