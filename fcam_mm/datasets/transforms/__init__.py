from .formatting import PackWSOLInputs
from .loading import LoadWSOLAnnotations
from .processing import RandomCrop

__all__ = ['LoadWSOLAnnotations', 'PackWSOLInputs', 'RandomCrop']
