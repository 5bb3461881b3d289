"""mmengine metrics of the WSOL protocol (Choe et al., CVPR 2020)."""
from .box_localization import BoxLocalizationMetric
from .classification import ClassificationMetric
from .map_coverage import MapCoverageMetric
from .pixel_localization import PixelLocalizationMetric
from .wsol_base_metric import WSOLBaseMetric

__all__ = [
    'BoxLocalizationMetric', 'PixelLocalizationMetric',
    'ClassificationMetric', 'MapCoverageMetric', 'WSOLBaseMetric'
]
