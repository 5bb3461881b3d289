from .curves import (curve_figures, curves_from_metrics, figure_to_array,
                     load_curve_files, plot_activation_histograms,
                     plot_pr_curves, plot_threshold_curves, summarize_runs)
from .drawing import (confusion_labels, draw_boxes, heat_overlay,
                      overlay_map)
from .localization_samples import (build_split, predict_images,
                                   predict_split, select_thresholds)
from .wsol_visualizer import WSOLVisualizer

__all__ = [
    'WSOLVisualizer', 'overlay_map', 'heat_overlay', 'draw_boxes',
    'confusion_labels', 'curve_figures', 'curves_from_metrics',
    'figure_to_array', 'load_curve_files', 'plot_threshold_curves',
    'plot_pr_curves', 'plot_activation_histograms', 'summarize_runs',
    'build_split', 'predict_split', 'predict_images', 'select_thresholds'
]
