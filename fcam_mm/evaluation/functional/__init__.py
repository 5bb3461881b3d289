"""The WSOL evaluation protocol of Choe et al. (CVPR 2020) as functions."""
from .level_set_boxes import NUM_LEVELS, boxes_at_all_levels
from .wsol_protocol import (CAM_CURVE_INTERVAL, EVAL_SIZE, IOU_THRESHOLDS,
                            MASK_BACKGROUND, MASK_IGNORE, MASK_OBJECT,
                            as_score_map, cam_threshold_list, check_boxes,
                            check_mask, contour_boxes, histogram_bin_edges,
                            multiple_iou, normalize_scoremap,
                            parse_eval_size, pr_curve_from_histograms,
                            prepare_scoremap, pxap_from_curve,
                            pxap_from_histograms, quantize_scoremap,
                            rescale_boxes, resize_mask_nearest,
                            resize_scoremap, score_histogram, target_rank,
                            threshold_levels)

__all__ = [
    'EVAL_SIZE', 'CAM_CURVE_INTERVAL', 'IOU_THRESHOLDS', 'MASK_BACKGROUND',
    'MASK_OBJECT', 'MASK_IGNORE', 'NUM_LEVELS', 'cam_threshold_list',
    'parse_eval_size', 'as_score_map', 'resize_scoremap',
    'normalize_scoremap', 'quantize_scoremap', 'prepare_scoremap',
    'threshold_levels', 'contour_boxes', 'boxes_at_all_levels',
    'check_boxes', 'rescale_boxes', 'multiple_iou', 'histogram_bin_edges',
    'score_histogram', 'pr_curve_from_histograms', 'pxap_from_curve',
    'pxap_from_histograms', 'check_mask', 'resize_mask_nearest',
    'target_rank'
]
