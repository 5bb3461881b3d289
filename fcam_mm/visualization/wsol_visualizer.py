"""Overlays of localization maps with ground truth, for people to look at."""
from typing import Optional, Sequence

import cv2
import mmcv
import numpy as np
from mmengine.visualization import Visualizer

from fcam_mm.evaluation.functional.wsol_protocol import (
    largest_box_at_threshold, prepare_scoremap, quantize_scoremap)
from fcam_mm.registry import VISUALIZERS

GT_COLOR = (0, 255, 0)
PRED_COLOR = (255, 0, 0)


def overlay_map(image: np.ndarray, score_map, alpha: float = 0.5):
    """Blend a map, resized (bicubic) to the image and min-max normalised as
    the protocol evaluates it, over an RGB image with the jet colour map.
    Returns the blended RGB image and the normalised map."""
    height, width = image.shape[:2]
    norm, _ = prepare_scoremap(score_map, (height, width))
    heat = cv2.applyColorMap(quantize_scoremap(norm), cv2.COLORMAP_JET)
    heat = cv2.cvtColor(heat, cv2.COLOR_BGR2RGB)
    blended = (1 - alpha) * image.astype(np.float32) + alpha * heat
    return blended.clip(0, 255).astype(np.uint8), norm


@VISUALIZERS.register_module()
class WSOLVisualizer(Visualizer):
    """Side-by-side panels, one per map (e.g. the CAM and the F-CAM map),
    each over the original image with the GT boxes (green), the GT mask
    outline (green), and optionally the predicted box at ``box_threshold``
    (red) — the layout of the paper's Fig. 3.
    """

    def add_datasample(self,
                       name: str,
                       image: np.ndarray,
                       data_sample,
                       map_keys: Sequence[str] = ('cam', 'fcam'),
                       box_threshold: Optional[float] = None,
                       show: bool = False,
                       out_file: Optional[str] = None,
                       step: int = 0) -> np.ndarray:
        panels = []
        for key in map_keys:
            if key not in data_sample:
                continue
            panel, norm = overlay_map(image, data_sample.get(key).cpu())
            self.set_image(panel)
            if 'gt_bboxes' in data_sample:
                self.draw_bboxes(
                    data_sample.gt_bboxes.cpu().numpy() +
                    np.array([0, 0, 1, 1]),
                    edge_colors=GT_COLOR,
                    line_widths=2)
            if box_threshold is not None:
                box = largest_box_at_threshold(norm, box_threshold)
                self.draw_bboxes(
                    box[None].astype(np.float32) + np.array([0, 0, 1, 1]),
                    edge_colors=PRED_COLOR,
                    line_widths=2)
            panel = self.get_image()
            if 'gt_mask' in data_sample:
                objects = (np.asarray(data_sample.gt_mask) == 1).astype(
                    np.uint8)
                contours = cv2.findContours(objects, cv2.RETR_EXTERNAL,
                                            cv2.CHAIN_APPROX_NONE)[-2]
                panel = np.ascontiguousarray(panel)
                cv2.drawContours(panel, contours, -1, GT_COLOR, 1)
            cv2.putText(panel, key, (4, 14), cv2.FONT_HERSHEY_SIMPLEX, 0.45,
                        (255, 255, 255), 1, cv2.LINE_AA)
            panels.append(panel)
        if not panels:
            raise KeyError(f'{name}: none of the maps {tuple(map_keys)} is in '
                           'the data sample')
        canvas = np.concatenate([image] + panels, axis=1)
        if show:
            self.show(canvas, win_name=name)
        if out_file is not None:
            mmcv.imwrite(mmcv.rgb2bgr(canvas), out_file)
        else:
            self.add_image(name, canvas, step)
        return canvas
