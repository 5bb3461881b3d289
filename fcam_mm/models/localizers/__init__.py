from .center_gaussian_localizer import CenterGaussianLocalizer
from .fcam_localizer import FCAMLocalizer
from .wsol_localizer import WSOLLocalizer

__all__ = ['WSOLLocalizer', 'FCAMLocalizer', 'CenterGaussianLocalizer']
