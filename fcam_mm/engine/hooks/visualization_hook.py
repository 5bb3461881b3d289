"""Writing overlays of the evaluated maps (and the metrics' curves) during
``tools/test.py``."""
import logging
import os.path as osp
import shutil
import tempfile
from numbers import Real
from typing import Dict, Mapping, Optional, Sequence, Union

import mmcv
import numpy as np
from mmengine.dist import is_main_process
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.utils import mkdir_or_exist
from mmengine.visualization import Visualizer

from fcam_mm.evaluation.functional.wsol_protocol import to_numpy
from fcam_mm.registry import HOOKS
from fcam_mm.visualization.localization_samples import (output_name,
                                                      sample_name)

#: data-sample fields the panels use besides the maps
_GT_FIELDS = ('gt_bboxes', 'gt_mask', 'gt_label', 'pred_score')


def protocol_thresholds(metrics: Mapping[str, float], evaluator_metrics,
                        map_keys: Sequence[str], style: str = 'box'
                        ) -> Dict[str, float]:
    """tau of each map from the evaluated metrics: the box metric's
    ``best_tau`` (MaxBoxAcc) for the box style, the pixel metric's
    ``best_f1_tau`` for the mask style (PxAP itself selects no tau).

    Args:
        metrics: what the evaluator returned (``'{prefix}/best_tau'``, ...).
        evaluator_metrics: the evaluator's metric objects, which say which
            prefix evaluated which map (``map_key``).
    """
    from fcam_mm.evaluation.metrics import (BoxLocalizationMetric,
                                            PixelLocalizationMetric)
    kind, name = ((PixelLocalizationMetric, 'best_f1_tau') if style == 'mask'
                  else (BoxLocalizationMetric, 'best_tau'))
    taus = {}
    for metric in evaluator_metrics:
        if isinstance(metric, kind) and metric.map_key in map_keys:
            key = f'{metric.prefix}/{name}' if metric.prefix else name
            if key in metrics and metric.map_key not in taus:
                taus[metric.map_key] = float(metrics[key])
    return taus


@HOOKS.register_module()
class WSOLVisualizationHook(Hook):
    """Draw every ``interval``-th test image with its maps, their
    localization and the ground truth (see
    :class:`~fcam_mm.visualization.WSOLVisualizer`), and the curves of the
    test metrics (accuracy vs tau, PR curve, activation histograms; see
    :mod:`fcam_mm.visualization.curves`).

    ``tools/test.py --show-dir DIR`` enables it and writes PNGs to
    ``{work_dir}/{timestamp}/DIR`` (the curves in ``DIR/curves``); with
    ``enable=True`` and no ``out_dir`` the pictures go to the visualizer's
    backends (``vis_data/`` files, TensorBoard, ...).

    Args:
        enable (bool): draw at all.
        interval (int): every how many test images (per process).
        map_keys (Sequence[str]): maps to show, one row each.
        threshold (str | float | dict | None): tau of the localization
            panels. ``'best'`` (default): the tau the test metrics select for
            each map — ``best_tau`` of the ``BoxLocalizationMetric`` that
            evaluates it (box style) or ``best_f1_tau`` of the
            ``PixelLocalizationMetric`` (mask style); the images are then
            drawn after the evaluation, from maps kept on disk meanwhile.
            A float or a ``{map_key: tau}`` dict: fixed, drawn on the fly.
            None: no localization, the GT only.
        style (str): ``'auto'``, ``'box'`` (Fig. 3) or ``'mask'`` (Fig. 4,
            TP / FP / FN).
        draw_curves (bool): also draw the test metrics' curves (main
            process).
        out_dir (str, optional): where PNGs go, relative to the run's log
            dir.
    """

    priority = 'NORMAL'

    def __init__(self,
                 enable: bool = False,
                 interval: int = 1,
                 map_keys: Sequence[str] = ('cam', 'fcam'),
                 threshold: Union[str, float, Dict[str, float], None] = 'best',
                 style: str = 'auto',
                 draw_curves: bool = True,
                 out_dir: Optional[str] = None):
        from fcam_mm.visualization.wsol_visualizer import STYLES
        if interval < 1:
            raise ValueError(f'interval must be >= 1, got {interval}')
        if isinstance(threshold, str) and threshold != 'best':
            raise ValueError("threshold must be 'best', a number, a dict "
                             f'{{map_key: tau}} or None, got {threshold!r}')
        if isinstance(threshold, Real) and not 0 <= threshold < 1:
            raise ValueError(f'threshold must be in [0, 1), got {threshold}')
        if style not in STYLES:
            raise ValueError(f'style must be one of {STYLES}, got {style!r}')
        self.enable = enable
        self.interval = interval
        self.map_keys = tuple(map_keys)
        self.threshold = threshold
        self.style = style
        self.draw_curves = draw_curves
        self.out_dir = out_dir
        self._seen = 0
        self._spool: Optional[str] = None
        self._pending = []

    @property
    def deferred(self) -> bool:
        return self.threshold == 'best'

    def before_test(self, runner) -> None:
        self._seen = 0
        self._pending = []
        if not self.enable:
            return
        if self.out_dir is not None:
            self._write_dir = osp.join(runner.log_dir, self.out_dir)
            mkdir_or_exist(self._write_dir)
        else:
            self._write_dir = None
        if self.deferred:
            self._spool = tempfile.mkdtemp(prefix='fcam_vis_')

    def _draw(self, name, sample, thresholds, step) -> None:
        visualizer = Visualizer.get_current_instance()
        image = mmcv.imread(sample.get('img_path'), channel_order='rgb')
        out_file = None
        if self._write_dir is not None:
            out_file = osp.join(self._write_dir, output_name(name))
        visualizer.add_datasample(
            name, image, sample, map_keys=self.map_keys,
            thresholds=thresholds, style=self.style, out_file=out_file,
            step=step)

    def after_test_iter(self, runner, batch_idx, data_batch=None,
                        outputs=None) -> None:
        if not self.enable:
            return
        for sample in outputs:
            self._seen += 1
            if (self._seen - 1) % self.interval:
                continue
            name = sample_name(sample)
            if not self.deferred:
                self._draw(name, sample, self.threshold, self._seen)
                continue
            # the maps wait on disk for the tau the metrics select
            arrays = {k: to_numpy(sample.get(k), k)
                      for k in self.map_keys + _GT_FIELDS if k in sample}
            path = osp.join(self._spool, f'{len(self._pending)}.npz')
            np.savez(path, **arrays)
            self._pending.append((name, sample.img_path, path, self._seen))

    def after_test_epoch(self, runner, metrics=None) -> None:
        if not self.enable:
            return
        evaluator_metrics = runner.test_evaluator.metrics
        try:
            if self.deferred:
                self._draw_pending(runner, metrics or {}, evaluator_metrics)
        finally:
            if self._spool is not None:
                shutil.rmtree(self._spool, ignore_errors=True)
                self._spool = None
            self._pending = []
        if self.draw_curves and is_main_process():
            self._draw_curves(evaluator_metrics)

    def _draw_pending(self, runner, metrics, evaluator_metrics) -> None:
        from fcam_mm.visualization.wsol_visualizer import resolve_style
        if not self._pending:
            return
        with np.load(self._pending[0][2]) as first:
            style = resolve_style(dict(first), self.style)
            drawn = [k for k in self.map_keys if k in first.files]
        taus = protocol_thresholds(metrics, evaluator_metrics, drawn, style)
        missing = [k for k in drawn if k not in taus]
        if missing:
            metric = ('PixelLocalizationMetric (best_f1_tau)' if style ==
                      'mask' else 'BoxLocalizationMetric (best_tau)')
            print_log(
                f'WSOLVisualizationHook: no {metric} of the test evaluator '
                f'evaluates {missing}: their localization panels show the GT '
                'only (set `threshold` to a number to fix a tau)',
                logger='current', level=logging.WARNING)
        print_log(f'WSOLVisualizationHook: drawing {len(self._pending)} '
                  f'images at tau {taus}', logger='current')
        for name, img_path, path, step in self._pending:
            with np.load(path) as data:
                sample = dict(data, img_path=img_path)
            self._draw(name, sample, taus, step)

    def _draw_curves(self, evaluator_metrics) -> None:
        from fcam_mm.visualization.curves import (curve_figures,
                                                  curves_from_metrics,
                                                  figure_to_array)
        runs = curves_from_metrics(evaluator_metrics)
        if not runs:
            return
        visualizer = Visualizer.get_current_instance()
        curves_dir = None
        if self._write_dir is not None:  # apart from the per-image PNGs
            curves_dir = osp.join(self._write_dir, 'curves')
            mkdir_or_exist(curves_dir)
        for name, figure in curve_figures(runs).items():
            if curves_dir is not None:
                figure.savefig(osp.join(curves_dir, f'{name}.png'),
                               dpi=figure.dpi)
            else:
                visualizer.add_image(name, figure_to_array(figure), 0)
