from .base_cam import BaseCAM
from .cam import CAM

__all__ = ['BaseCAM', 'CAM']
