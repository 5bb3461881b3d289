"""Writing overlays of the evaluated maps during ``tools/test.py``."""
import os.path as osp
from typing import Optional, Sequence

import mmcv
from mmengine.hooks import Hook
from mmengine.utils import mkdir_or_exist
from mmengine.visualization import Visualizer

from fcam_mm.registry import HOOKS


@HOOKS.register_module()
class WSOLVisualizationHook(Hook):
    """Draw every ``interval``-th test image with its maps and ground truth
    (see :class:`~fcam_mm.visualization.WSOLVisualizer`).

    ``tools/test.py --show-dir DIR`` enables it and writes PNGs to
    ``{work_dir}/{timestamp}/DIR``; otherwise images go to the visualizer's
    backends (local files, TensorBoard...).

    Args:
        enable (bool): draw at all.
        interval (int): every how many test images.
        map_keys (Sequence[str]): maps to show side by side.
        box_threshold (float, optional): draw the predicted box of each map
            at this τ (normalised map), in red.
        out_dir (str, optional): where PNGs go.
    """

    priority = 'NORMAL'

    def __init__(self,
                 enable: bool = False,
                 interval: int = 1,
                 map_keys: Sequence[str] = ('cam', 'fcam'),
                 box_threshold: Optional[float] = None,
                 out_dir: Optional[str] = None):
        if interval < 1:
            raise ValueError(f'interval must be >= 1, got {interval}')
        self.enable = enable
        self.interval = interval
        self.map_keys = tuple(map_keys)
        self.box_threshold = box_threshold
        self.out_dir = out_dir
        self._seen = 0

    def before_test(self, runner) -> None:
        self._seen = 0
        if self.enable and self.out_dir is not None:
            self.out_dir = osp.join(runner.log_dir, self.out_dir)
            mkdir_or_exist(self.out_dir)

    def after_test_iter(self, runner, batch_idx, data_batch=None,
                        outputs=None) -> None:
        if not self.enable:
            return
        visualizer = Visualizer.get_current_instance()
        for sample in outputs:
            self._seen += 1
            if (self._seen - 1) % self.interval:
                continue
            image = mmcv.imread(sample.img_path, channel_order='rgb')
            name = sample.get('img_id', osp.basename(sample.img_path))
            out_file = None
            if self.out_dir is not None:
                stem = osp.splitext(name)[0].replace('/', '__')
                out_file = osp.join(self.out_dir, f'{stem}.png')
            visualizer.add_datasample(
                name, image, sample, map_keys=self.map_keys,
                box_threshold=self.box_threshold, out_file=out_file,
                step=self._seen)
