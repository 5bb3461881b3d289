"""Figures from the curves the WSOL metrics keep (``metric.curves`` or the
``{prefix}_{box,pixel}_curves.npz`` files they write):

* localization accuracy vs tau (the paper's Fig. 5 a),
* the pixel precision-recall curve of PxAP (Fig. 5 b),
* the distribution of the normalised map activations over the split
  (Fig. 6), over every pixel and split into object / background pixels.

A *run* is one evaluated map (a metric prefix such as ``cam`` or ``fcam``);
``runs`` maps a label to ``{'box': curves, 'pixel': curves}`` (either may be
missing). Plain matplotlib ``Figure`` objects, no pyplot state.
"""
import glob
import os.path as osp
from collections import OrderedDict
from typing import Dict, Iterable, Mapping, Optional, Sequence, Tuple

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from fcam_mm.evaluation.functional.wsol_protocol import pxap_from_histograms

#: The paper's colours first (CAM* orange, CAM* + F-CAM green).
PALETTE = ('tab:orange', 'tab:green', 'tab:blue', 'tab:red', 'tab:purple',
           'tab:brown', 'tab:pink', 'tab:gray', 'tab:olive', 'tab:cyan')
CURVE_KINDS = {'box_curves': 'box', 'pixel_curves': 'pixel'}

Runs = Mapping[str, Mapping[str, Mapping[str, np.ndarray]]]


# --------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------
def _split_curve_file(path: str) -> Tuple[str, str]:
    stem = osp.splitext(osp.basename(path))[0]
    for suffix, kind in CURVE_KINDS.items():
        if stem.endswith('_' + suffix):
            return stem[:-len(suffix) - 1], kind
    raise ValueError(f'{path}: not a curves file of the WSOL metrics (the '
                     'names are {prefix}_box_curves.npz and '
                     '{prefix}_pixel_curves.npz)')


def load_curve_files(paths: Sequence[str]) -> 'OrderedDict[str, dict]':
    """Runs from curves files and/or folders holding them.

    The label of a run is its metric prefix (``cam_box_curves.npz`` ->
    ``cam``); when several inputs hold the same prefix, the folder name is
    put in front (``exp1/cam``).
    """
    found = []
    for path in paths:
        if osp.isdir(path):
            files = sorted(
                glob.glob(osp.join(path, '*_box_curves.npz')) +
                glob.glob(osp.join(path, '*_pixel_curves.npz')))
            if not files:
                raise FileNotFoundError(
                    f'{path}: no *_box_curves.npz / *_pixel_curves.npz (write '
                    'them with tools/test.py --out-curves DIR)')
        elif osp.isfile(path):
            files = [path]
        else:
            raise FileNotFoundError(f'{path}: no such file or folder')
        for file in files:
            prefix, kind = _split_curve_file(file)
            found.append((osp.dirname(osp.abspath(file)), prefix, kind, file))
    folders_of = {}
    for folder, prefix, _, _ in found:
        folders_of.setdefault(prefix, set()).add(folder)
    runs = OrderedDict()
    for folder, prefix, kind, file in found:
        label = (prefix if len(folders_of[prefix]) == 1 else
                 f'{osp.basename(folder)}/{prefix}')
        with np.load(file, allow_pickle=False) as data:
            runs.setdefault(label, {})[kind] = {k: data[k] for k in data.files}
    return runs


def curves_from_metrics(metrics: Iterable) -> 'OrderedDict[str, dict]':
    """Runs from evaluated metric objects (their ``curves``), labelled by
    prefix."""
    from fcam_mm.evaluation.metrics import (BoxLocalizationMetric,
                                            PixelLocalizationMetric)
    runs = OrderedDict()
    for metric in metrics:
        kind = ('box' if isinstance(metric, BoxLocalizationMetric) else
                'pixel' if isinstance(metric, PixelLocalizationMetric) else
                None)
        if kind and getattr(metric, 'curves', None):
            label = metric.prefix or metric.map_key
            runs.setdefault(label, {})[kind] = dict(metric.curves)
    return runs


# --------------------------------------------------------------------------
# Histograms
# --------------------------------------------------------------------------
def rebin(counts: np.ndarray, edges: np.ndarray,
          bins: int) -> Tuple[np.ndarray, np.ndarray]:
    """Merge consecutive bins into about ``bins`` bins (groups of
    ``len(counts) // bins``; the last group may be narrower)."""
    counts = np.asarray(counts)
    factor = max(1, len(counts) // max(1, int(bins)))
    starts = np.arange(0, len(counts), factor)
    return (np.add.reduceat(counts, starts),
            np.append(np.asarray(edges)[starts], edges[-1]))


def quantized_histogram(hist: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """Counts of the 256 uint8 levels ``q = int(255 s)`` as a histogram of
    ``s`` over ``[k / 255, (k + 1) / 255)``, k = 0..254; level 255 (``s``
    exactly 1, the maximum of each map) joins the last bin."""
    hist = np.asarray(hist, np.int64)
    counts = hist[:255].copy()
    counts[-1] += hist[255]
    return counts, np.arange(256) / 255.


def score_histogram_bins(hist: np.ndarray,
                         bin_edges: np.ndarray) -> Tuple[np.ndarray,
                                                         np.ndarray]:
    """A PxAP histogram (bins ``[tau_i, tau_i+1) ... [tau_last, 1), [1, 2),
    [2, 3]``) as a histogram over ``[0, 1]``: scores of 1 (each map's
    maximum) join the last bin."""
    hist = np.asarray(hist, np.int64)
    counts = hist[:-2].copy()
    counts[-1] += hist[-2:].sum()
    return counts, np.asarray(bin_edges, np.float64)[:-2]


def activation_histograms(run: Mapping[str, Mapping]) -> Optional[dict]:
    """``{'all', 'object', 'background': (counts, edges)}`` of one run and
    the ``source`` of the split: the pixel metric's float scores against the
    GT mask when the run has them, else the box metric's uint8 levels inside
    / outside the GT boxes. None without any histogram."""
    pixel, box = run.get('pixel'), run.get('box')
    if pixel is not None and 'all_hist' in pixel:
        edges = pixel['bin_edges']
        return dict(
            all=score_histogram_bins(pixel['all_hist'], edges),
            object=score_histogram_bins(pixel['pos_hist'], edges),
            background=score_histogram_bins(pixel['neg_hist'], edges),
            source='GT mask')
    if box is not None and 'quantized_hist' in box:
        out = dict(all=quantized_histogram(box['quantized_hist']),
                   source='GT boxes')
        if 'quantized_hist_in_box' in box:
            out['object'] = quantized_histogram(box['quantized_hist_in_box'])
            out['background'] = quantized_histogram(
                box['quantized_hist_out_box'])
        return out
    return None


def density(counts: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Counts as a probability density (integrates to 1 over the edges)."""
    counts = np.asarray(counts, np.float64)
    total = counts.sum()
    widths = np.diff(edges)
    return counts / (total * widths) if total > 0 else counts


# --------------------------------------------------------------------------
# Figures
# --------------------------------------------------------------------------
def _figure(width: float, height: float, ncols: int = 1):
    fig = Figure(figsize=(width, height), dpi=100, layout='constrained')
    FigureCanvasAgg(fig)
    axes = [fig.add_subplot(1, ncols, i + 1) for i in range(ncols)]
    return fig, axes


def _style(ax, title, xlabel, ylabel):
    ax.set_title(title, fontsize=11)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(True, alpha=0.3)


def box_curve_label(key: str) -> str:
    """Axis wording of a box curve key."""
    if key == 'accuracy':
        return 'MaxBoxAcc (IoU 50, largest box)'
    if key.startswith('accuracy_V2@'):
        return f'BoxAcc V2, IoU {key.split("@")[1]} (all boxes)'
    return key


def plot_threshold_curves(runs: Runs, key: str = 'accuracy'
                          ) -> Optional[Figure]:
    """Localization accuracy (%) vs tau, one line per run, the selected tau
    (first maximum, as the metric selects it) marked (Fig. 5 a). ``key``:
    ``'accuracy'`` (MaxBoxAcc) or ``'accuracy_V2@30|50|70'``."""
    fig, (ax, ) = _figure(5.6, 4.2)
    drawn = 0
    for i, (label, run) in enumerate(runs.items()):
        box = run.get('box')
        if box is None:
            continue
        if key not in box:
            raise KeyError(f'{label}: the box curves have no {key!r} (they '
                           f'have {sorted(box)})')
        color = PALETTE[i % len(PALETTE)]
        taus, acc = box['thresholds'], box[key]
        best = int(np.argmax(acc))
        ax.plot(taus, acc, color=color, lw=1.8, gid=f'{label}:{key}',
                label=f'{label}: {acc[best]:.2f} at τ={taus[best]:.3f}')
        ax.plot([taus[best]], [acc[best]], 'o', color=color, ms=6,
                gid=f'{label}:best')
        drawn += 1
    if not drawn:
        return None
    _style(ax, f'{box_curve_label(key)} vs threshold', 'threshold τ',
           'localization accuracy (%)')
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 100)
    ax.legend(loc='upper right', fontsize=9)
    return fig


def plot_pr_curves(runs: Runs) -> Optional[Figure]:
    """Pixel precision vs recall over the tau list, one line per run, PxAP
    in the legend (Fig. 5 b). Thresholds with no predicted pixel (precision
    undefined) are left out of the line."""
    fig, (ax, ) = _figure(5.6, 4.2)
    drawn = 0
    for i, (label, run) in enumerate(runs.items()):
        pixel = run.get('pixel')
        if pixel is None:
            continue
        pos, neg = pixel['pos_hist'], pixel['neg_hist']
        n_tau = len(pixel['thresholds'])
        predicted = np.cumsum((pos + neg)[::-1])[::-1][:n_tau] > 0
        pxap = pxap_from_histograms(pos, neg)
        ax.plot(pixel['recall'][predicted], pixel['precision'][predicted],
                color=PALETTE[i % len(PALETTE)], lw=1.8, gid=f'{label}:pr',
                label=f'{label}: PxAP {pxap:.2f}')
        drawn += 1
    if not drawn:
        return None
    _style(ax, 'Pixel precision-recall (PxAP)', 'recall', 'precision')
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.legend(loc='lower left', fontsize=9)
    return fig


def plot_activation_histograms(runs: Runs, bins: int = 50,
                               log: bool = False) -> Optional[Figure]:
    """Density of the normalised activations over the split (Fig. 6): every
    pixel (left) and object / background pixels apart (right, when the
    curves hold the split)."""
    hists = OrderedDict((label, activation_histograms(run))
                        for label, run in runs.items())
    hists = OrderedDict((k, v) for k, v in hists.items() if v is not None)
    if not hists:
        return None
    split = any('object' in h for h in hists.values())
    fig, axes = _figure(11 if split else 5.6, 4.2, 2 if split else 1)
    ax = axes[0]
    colors = {label: PALETTE[i % len(PALETTE)]
              for i, label in enumerate(runs)}
    for label, h in hists.items():
        counts, edges = rebin(*h['all'], bins)
        d = density(counts, edges)
        ax.stairs(d, edges, color=colors[label], fill=True, alpha=0.25)
        ax.stairs(d, edges, color=colors[label], lw=1.6, label=label,
                  gid=f'{label}:all')
    _style(ax, 'Activations, every pixel', 'normalised activation',
           'density')
    ax.legend(fontsize=9)
    if split:
        ax = axes[1]
        sources = set()
        for label, h in hists.items():
            if 'object' not in h:
                continue
            sources.add(h['source'])
            for part, ls in (('object', '-'), ('background', '--')):
                counts, edges = rebin(*h[part], bins)
                ax.stairs(density(counts, edges), edges, color=colors[label],
                          lw=1.6, ls=ls, label=f'{label}, {part}',
                          gid=f'{label}:{part}')
        where = ' / '.join(sorted(sources))
        _style(ax, f'Object vs background pixels ({where})',
               'normalised activation', 'density')
        ax.legend(fontsize=9)
    for ax in axes:
        ax.set_xlim(0, 1)
        if log:
            ax.set_yscale('log')
    return fig


def curve_figures(runs: Runs, box_curve: str = 'accuracy', bins: int = 50,
                  log: bool = False) -> 'OrderedDict[str, Figure]':
    """Every figure the runs have data for: ``threshold_curves``,
    ``pr_curves``, ``activation_histograms``."""
    figures = OrderedDict(
        threshold_curves=plot_threshold_curves(runs, box_curve),
        pr_curves=plot_pr_curves(runs),
        activation_histograms=plot_activation_histograms(runs, bins, log))
    return OrderedDict((k, v) for k, v in figures.items() if v is not None)


def figure_to_array(fig: Figure) -> np.ndarray:
    """The rendered figure as an (H, W, 3) uint8 RGB array."""
    canvas = fig.canvas if isinstance(fig.canvas, FigureCanvasAgg) else \
        FigureCanvasAgg(fig)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[..., :3].copy()


def summarize_runs(runs: Runs) -> Dict[str, dict]:
    """The headline numbers the curves give back: MaxBoxAcc and its tau
    (first maximum), MaxBoxAccV2 (mean of the per-IoU maxima), PxAP."""
    table = OrderedDict()
    for label, run in runs.items():
        row = {}
        box = run.get('box')
        if box is not None:
            best = int(np.argmax(box['accuracy']))
            row['MaxBoxAcc'] = float(box['accuracy'][best])
            row['best_tau'] = float(box['thresholds'][best])
            v2 = [float(box[k].max()) for k in sorted(box)
                  if k.startswith('accuracy_V2@')]
            if v2:
                row['MaxBoxAccV2'] = float(np.mean(v2))
        pixel = run.get('pixel')
        if pixel is not None:
            row['PxAP'] = pxap_from_histograms(pixel['pos_hist'],
                                               pixel['neg_hist'])
        table[label] = row
    return table
