from .base_cam import BaseCAM, BaseGradientCAM
from .cam import CAM
from .eigen_cam import EigenCAM
from .grad_cam import GradCAM
from .grad_cam_plus_plus import GradCAMPlusPlus, gradcampp_weights
from .hires_cam import HiResCAM
from .layer_cam import LayerCAM
from .score_cam import ScoreCAM
from .smooth_grad_cam_plus_plus import SmoothGradCAMPlusPlus
from .xgrad_cam import XGradCAM

__all__ = [
    'BaseCAM', 'BaseGradientCAM', 'CAM', 'GradCAM', 'GradCAMPlusPlus',
    'SmoothGradCAMPlusPlus', 'XGradCAM', 'LayerCAM', 'HiResCAM', 'ScoreCAM',
    'EigenCAM', 'gradcampp_weights'
]
