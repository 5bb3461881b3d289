from .center_gaussian_localizer import CenterGaussianLocalizer
from .fcam_localizer import FCAMLocalizer
from .fsl_segmenter import FSLSegmenter
from .wsol_localizer import WSOLLocalizer

__all__ = ['WSOLLocalizer', 'FCAMLocalizer', 'CenterGaussianLocalizer',
           'FSLSegmenter']
