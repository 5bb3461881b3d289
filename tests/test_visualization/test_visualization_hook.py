"""WSOLVisualizationHook options and the tau it takes from the metrics."""
import pytest

from fcam_mm.engine.hooks.visualization_hook import (WSOLVisualizationHook,
                                                     protocol_thresholds)
from fcam_mm.evaluation.metrics import (BoxLocalizationMetric,
                                        ClassificationMetric,
                                        PixelLocalizationMetric)


def test_thresholds_come_from_the_metric_of_each_map():
    evaluator = [
        BoxLocalizationMetric(map_key='cam', prefix='baseline'),
        PixelLocalizationMetric(map_key='cam', prefix='baseline'),
        BoxLocalizationMetric(map_key='fcam', prefix='ours'),
        ClassificationMetric(prefix='cls'),
    ]
    metrics = {'baseline/best_tau': 0.12, 'baseline/best_f1_tau': 0.3,
               'ours/best_tau': 0.61, 'cls/top1': 50.0}
    assert protocol_thresholds(metrics, evaluator, ('cam', 'fcam')) == {
        'cam': 0.12, 'fcam': 0.61}
    # mask style: the pixel metric's best-F1 tau; fcam has none
    assert protocol_thresholds(metrics, evaluator, ('cam', 'fcam'),
                               'mask') == {'cam': 0.3}


@pytest.mark.parametrize('kwargs, message', [
    (dict(interval=0), 'interval'),
    (dict(threshold='val'), "threshold must be 'best'"),
    (dict(threshold=1.0), r'\[0, 1\)'),
    (dict(style='heat'), 'style must be one of'),
])
def test_bad_options_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        WSOLVisualizationHook(**kwargs)
