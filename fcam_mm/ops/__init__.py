from .bilateral_filter import (DenseGaussianFilterFunction,
                               ExactDenseGaussianFilterFunction,
                               dense_gaussian_filter,
                               exact_dense_gaussian_filter, image_features)
from .permutohedral import (PermutohedralLattice, densecrf_gain,
                            lattice_scale, normalization_factor)

__all__ = [
    'PermutohedralLattice', 'lattice_scale', 'densecrf_gain',
    'normalization_factor', 'image_features', 'dense_gaussian_filter',
    'exact_dense_gaussian_filter', 'DenseGaussianFilterFunction',
    'ExactDenseGaussianFilterFunction'
]
