from .sampling_regions import (IGNORE_INDEX, cam_to_uint8, otsu_threshold,
                               sample_pseudo_labels, sampling_regions)

__all__ = [
    'otsu_threshold', 'cam_to_uint8', 'sampling_regions',
    'sample_pseudo_labels', 'IGNORE_INDEX'
]
