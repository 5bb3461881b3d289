from .coco_wsol_dataset import CocoWSOLDataset
from .metadata import MetadataError
from .transforms import *  # noqa: F401,F403
from .wsol_dataset import (CUBDataset, ILSVRCDataset, OpenImagesDataset,
                           WSOLDataset)

__all__ = [
    'WSOLDataset', 'CUBDataset', 'OpenImagesDataset', 'ILSVRCDataset',
    'CocoWSOLDataset', 'MetadataError'
]
