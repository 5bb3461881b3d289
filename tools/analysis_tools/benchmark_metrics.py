"""Benchmark the WSOL metrics against the protocol as written.

Builds random 224x224 score maps with GT boxes (and masks), then times, on
the same inputs and in one run:

(a) a straightforward implementation of the box protocol (Choe et al.,
    CVPR 2020): for every image, ``cv2.threshold`` + ``cv2.findContours`` at
    every one of the 1,000 thresholds, the largest contour's box and all the
    contour boxes, their IoU with the GT boxes — one contour extraction per
    threshold serves both MaxBoxAcc and MaxBoxAccV2;
(b) ``BoxLocalizationMetric`` (``process`` + ``evaluate``);

and likewise the reference's per-image ``np.histogram`` PxAP against
``PixelLocalizationMetric``. Prints both times, their ratio, and whether
every output number (and every curve) is identical.

Example::

    python tools/analysis_tools/benchmark_metrics.py --num-maps 200 \\
        --num-masks 5000 --map-kind cam7
    python tools/analysis_tools/benchmark_metrics.py --num-maps 100 \\
        --num-masks 0 --map-kind all --repeat 3
"""
import argparse
import os
import os.path as osp
import platform
import sys
import time

import cv2
import numpy as np

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, ROOT)
from fcam_mm.evaluation import (BoxLocalizationMetric,  # noqa: E402
                                PixelLocalizationMetric)
from fcam_mm.evaluation.functional import (  # noqa: E402
    cam_threshold_list, histogram_bin_edges, multiple_iou, prepare_scoremap,
    pxap_from_histograms, quantize_scoremap, rescale_boxes,
    resize_mask_nearest, target_rank, threshold_levels)

MAP_KINDS = ('cam7', 'cam28', 'blobs')


def random_map(rng, kind, size):
    """A CAM-like map at ``size`` (float32, as a network would give)."""
    if kind in ('cam7', 'cam28'):
        r = 7 if kind == 'cam7' else 28
        low = rng.random((r, r)) ** 2  # ReLU-like: mass near zero
    else:  # a few Gaussian bumps on a 28x28 grid plus weak noise
        r = 28
        yy, xx = np.mgrid[0:r, 0:r] / r
        low = 0.05 * rng.random((r, r))
        for _ in range(int(rng.integers(1, 4))):
            cy, cx = rng.random(2)
            sy, sx = rng.uniform(0.05, 0.3, 2)
            low += rng.uniform(0.5, 1) * np.exp(
                -((yy - cy)**2 / (2 * sy**2) + (xx - cx)**2 / (2 * sx**2)))
    cam = cv2.resize(low, (size, size), interpolation=cv2.INTER_CUBIC)
    return cam.astype(np.float32)


def random_boxes(rng, size):
    boxes = []
    for _ in range(int(rng.integers(1, 4))):
        x0, x1 = np.sort(rng.integers(0, size, 2))
        y0, y1 = np.sort(rng.integers(0, size, 2))
        boxes.append([x0, y0, x1, y1])
    return np.asarray(boxes, np.float32)


def make_batch(rng, kind, size, n, num_classes, with_mask):
    batch = []
    for _ in range(n):
        cam = random_map(rng, kind, size)
        sample = dict(cam=cam, ori_shape=(size, size),
                      gt_bboxes=random_boxes(rng, size),
                      gt_label=np.array([rng.integers(num_classes)]),
                      pred_score=rng.random(num_classes))
        if with_mask:
            mask = (cam > np.quantile(cam, rng.uniform(0.4, 0.9))).astype(
                np.uint8)
            mask[(rng.random(mask.shape) < 0.05) & (mask == 0)] = 255
            sample['gt_mask'] = mask
        batch.append(sample)
    return batch


# --------------------------------------------------------------------------
# (a) the protocol as written
# --------------------------------------------------------------------------
class StraightforwardBoxes:
    """Contour extraction at every threshold, per image (the protocol as
    described), accumulating the same counts as the metric."""

    def __init__(self, eval_size=224, iou=(30, 50, 70), topk=(1, 5)):
        self.size = (eval_size, eval_size)
        self.taus = cam_threshold_list()
        self.iou = iou
        self.topk = topk
        n = len(self.taus)
        self.correct = np.zeros((1 + len(iou), n), np.int64)
        self.top = {k: np.zeros((1 + len(iou), n), np.int64) for k in topk}
        self.hist = np.zeros(256, np.int64)
        self.num = 0

    def add(self, sample):
        scoremap, _ = prepare_scoremap(sample['cam'], self.size)
        q = quantize_scoremap(scoremap)
        height, width = q.shape
        gt = rescale_boxes(sample['gt_bboxes'], tuple(sample['ori_shape']),
                           self.size)
        largest, every, counts = [], [], []
        for level in threshold_levels(self.taus, int(q.max())):
            _, binary = cv2.threshold(q, int(level), 255, cv2.THRESH_BINARY)
            contours = cv2.findContours(binary, cv2.RETR_TREE,
                                        cv2.CHAIN_APPROX_SIMPLE)[0]
            if len(contours) == 0:
                largest.append([0, 0, 0, 0])
                every.append([0, 0, 0, 0])
                counts.append(1)
                continue
            boxes = []
            for c in contours:
                x, y, w, h = cv2.boundingRect(c)
                boxes.append(
                    [x, y, min(x + w, width - 1),
                     min(y + h, height - 1)])
            best = max(range(len(contours)),
                       key=lambda i: cv2.contourArea(contours[i]))
            largest.append(boxes[best])
            every.extend(boxes)
            counts.append(len(boxes))
        iou_largest = multiple_iou(np.asarray(largest), gt).max(1)
        iou_every = multiple_iou(np.asarray(every), gt).max(1)
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
        iou_every = np.maximum.reduceat(iou_every, starts)
        ok = [iou_largest >= 0.5] + [iou_every >= t / 100 for t in self.iou]
        ok = np.asarray(ok)
        self.correct += ok
        rank = target_rank(sample['pred_score'], int(sample['gt_label'][0]))
        for k in self.topk:
            if rank < k:
                self.top[k] += ok
        self.hist += np.bincount(q.ravel(), minlength=256)
        self.num += 1

    def metrics(self):
        acc = self.correct * 100. / float(self.num)
        best = [int(np.argmax(a)) for a in acc]
        out = {'MaxBoxAcc': float(acc[0].max())}
        v2 = [float(a.max()) for a in acc[1:]]
        out['MaxBoxAccV2'] = float(np.average(v2))
        for t, v in zip(self.iou, v2):
            out[f'MaxBoxAccV2@{t}'] = v
        out['best_tau'] = float(self.taus[best[0]])
        for i, t in enumerate(self.iou, start=1):
            out[f'best_tau_V2@{t}'] = float(self.taus[best[i]])
        i50 = self.iou.index(50) + 1
        for k in self.topk:
            top = self.top[k] * 100. / float(self.num)
            out[f'top{k}_loc'] = float(top[0, best[0]])
            out[f'top{k}_loc_V2'] = float(top[i50, best[i50]])
        out['gt_known'] = float(acc[0, best[0]])
        curves = dict(accuracy=acc[0], quantized_hist=self.hist)
        for i, t in enumerate(self.iou, start=1):
            curves[f'accuracy_V2@{t}'] = acc[i]
        return out, curves


class StraightforwardPxAP:
    """The reference's MaskEvaluator: np.histogram per image."""

    def __init__(self, eval_size=224):
        self.size = (eval_size, eval_size)
        self.edges = histogram_bin_edges(cam_threshold_list())
        self.pos = np.zeros(len(self.edges) - 1)
        self.neg = np.zeros(len(self.edges) - 1)

    def add(self, sample):
        scoremap, _ = prepare_scoremap(sample['cam'], self.size)
        mask = resize_mask_nearest(sample['gt_mask'], self.size)
        self.pos += np.histogram(scoremap[mask == 1], bins=self.edges)[0]
        self.neg += np.histogram(scoremap[mask == 0], bins=self.edges)[0]

    def metrics(self):
        return pxap_from_histograms(self.pos, self.neg)


# --------------------------------------------------------------------------
def strip_prefix(metrics):
    return {k.split('/', 1)[-1]: v for k, v in metrics.items()}


def compare(name, a, b):
    same = a == b
    if not same:
        for k in sorted(set(a) | set(b)):
            if a.get(k) != b.get(k):
                print(f'  {name}: {k}: straightforward {a.get(k)!r} vs '
                      f'metric {b.get(k)!r}')
    return same


def time_boxes_once(args, batches):
    """One timing round of (a), (b) and optionally (c) on the same batches,
    interleaved batch by batch so that the load of a shared machine hits
    them alike. Returns the times and the outputs."""
    naive = StraightforwardBoxes(args.eval_size)
    metric = BoxLocalizationMetric(eval_size=args.eval_size)
    dedup = BoxLocalizationMetric(eval_size=args.eval_size,
                                  box_algorithm='contours')
    t_naive = t_metric = t_dedup = 0.0
    for batch in batches:
        t0 = time.perf_counter()
        for s in batch:
            naive.add(s)
        t1 = time.perf_counter()
        metric.process(None, batch)
        t2 = time.perf_counter()
        if args.with_contours:
            dedup.process(None, batch)
        t3 = time.perf_counter()
        t_naive += t1 - t0
        t_metric += t2 - t1
        t_dedup += t3 - t2
    t0 = time.perf_counter()
    out_naive, curves_naive = naive.metrics()
    t1 = time.perf_counter()
    out_metric = strip_prefix(metric.evaluate(args.num_maps))
    t2 = time.perf_counter()
    t_naive += t1 - t0
    t_metric += t2 - t1
    same = compare('boxes', out_naive, out_metric)
    same &= all(
        np.array_equal(curves_naive[k], metric.curves[k])
        for k in curves_naive)
    if args.with_contours:
        same &= compare('contours', out_metric,
                        strip_prefix(dedup.evaluate(args.num_maps)))
    return t_naive, t_metric, t_dedup, same, out_metric


def run_boxes(args, map_kind):
    rng = np.random.default_rng(args.seed)
    batches = []
    while sum(map(len, batches)) < args.num_maps:
        n = min(args.batch_size, args.num_maps - sum(map(len, batches)))
        batches.append(make_batch(rng, map_kind, args.eval_size, n, 200,
                                  False))
    print(f'[boxes] {args.num_maps} maps ({map_kind}), '
          f'{args.eval_size}x{args.eval_size}, 1,000 thresholds')
    ratios, all_same = [], True
    for r in range(args.repeat):
        t_naive, t_metric, t_dedup, same, out = time_boxes_once(args,
                                                                batches)
        ratios.append(t_naive / t_metric)
        all_same &= same
        line = (f'  round {r + 1}: (a) contours at every threshold '
                f'{t_naive:6.2f} s ({t_naive / args.num_maps * 1e3:.2f} '
                f'ms/map), (b) BoxLocalizationMetric {t_metric:6.2f} s '
                f'({t_metric / args.num_maps * 1e3:.2f} ms/map), '
                f'(a)/(b) {t_naive / t_metric:.1f}x')
        if args.with_contours:
            line += (f', (c) box_algorithm="contours" {t_dedup:.2f} s, '
                     f'(a)/(c) {t_naive / t_dedup:.1f}x')
        print(line)
    print(f'  speed-up (a)/(b): median {np.median(ratios):.1f}x '
          f'(min {min(ratios):.1f}x, max {max(ratios):.1f}x over '
          f'{len(ratios)} rounds)')
    print(f'  identical numbers and curves: {all_same} ({len(out)} values)')
    print('  ' + ', '.join(f'{k}={v:.4g}' for k, v in out.items()))
    return all_same


def run_pxap(args, map_kind):
    rng = np.random.default_rng(args.seed + 1)
    naive = StraightforwardPxAP(args.eval_size)
    metric = PixelLocalizationMetric(eval_size=args.eval_size)
    t_naive = t_metric = 0.0
    done = 0
    while done < args.num_masks:
        n = min(args.batch_size, args.num_masks - done)
        batch = make_batch(rng, map_kind, args.eval_size, n, 2, True)
        t0 = time.perf_counter()
        for s in batch:
            naive.add(s)
        t1 = time.perf_counter()
        metric.process(None, batch)
        t2 = time.perf_counter()
        t_naive += t1 - t0
        t_metric += t2 - t1
        done += n
    t0 = time.perf_counter()
    ap_naive = naive.metrics()
    t1 = time.perf_counter()
    out = strip_prefix(metric.evaluate(args.num_masks))
    t2 = time.perf_counter()
    t_naive += t1 - t0
    t_metric += t2 - t1
    same = ap_naive == out['PxAP'] and np.array_equal(
        naive.pos, metric.curves['pos_hist']) and np.array_equal(
            naive.neg, metric.curves['neg_hist'])
    print(f'[PxAP] {args.num_masks} maps with masks ({map_kind}), '
          f'{args.eval_size}x{args.eval_size}')
    print(f'  (a) np.histogram per image:  {t_naive:8.2f} s')
    print(f'  (b) PixelLocalizationMetric: {t_metric:8.2f} s')
    print(f'  speed-up (a)/(b): {t_naive / t_metric:.1f}x')
    print(f'  identical PxAP and histograms: {same} '
          f'(PxAP={out["PxAP"]:.6f}, best_f1={out["best_f1"]:.4f}, '
          f'best_f1_tau={out["best_f1_tau"]})')
    return same


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--num-maps', type=int, default=200,
                        help='maps for the box metrics')
    parser.add_argument('--num-masks', type=int, default=5000,
                        help='maps with masks for PxAP (0 to skip)')
    parser.add_argument('--map-kind', choices=MAP_KINDS + ('all', ),
                        default='cam7',
                        help='cam7 / cam28: random 7x7 / 28x28 low-res CAMs '
                        'upsampled (bicubic) to 224; blobs: Gaussian bumps '
                        'plus weak noise; all: the three, one after the '
                        'other (PxAP on cam7)')
    parser.add_argument('--repeat', type=int, default=1,
                        help='timing rounds of the box metrics on the same '
                        'maps (the ratio of each round and their median '
                        'are printed: the machine may be shared)')
    parser.add_argument('--eval-size', type=int, default=224)
    parser.add_argument('--batch-size', type=int, default=32)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--with-contours', action='store_true',
                        help='also time box_algorithm="contours" (c)')
    return parser.parse_args(argv)


def load_average():
    try:
        return '/'.join(f'{v:.2f}' for v in os.getloadavg())
    except OSError:  # not on every platform
        return 'n/a'


def main(argv=None):
    args = parse_args(argv)
    if args.repeat < 1:
        raise SystemExit('--repeat must be at least 1')
    print(f'machine: {platform.machine()} {platform.processor() or ""}, '
          f'{os.cpu_count()} CPUs, Python {platform.python_version()}, '
          f'NumPy {np.__version__}, OpenCV {cv2.__version__}; load average '
          f'(1/5/15 min) at start: {load_average()}')
    kinds = MAP_KINDS if args.map_kind == 'all' else (args.map_kind, )
    ok = True
    if args.num_maps:
        for kind in kinds:
            ok &= run_boxes(args, kind)
    if args.num_masks:
        ok &= run_pxap(args, kinds[0])
    print(f'load average at the end: {load_average()}')
    if not ok:
        raise SystemExit('results differ')
    return ok


if __name__ == '__main__':
    main()
