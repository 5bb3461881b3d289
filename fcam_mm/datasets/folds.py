"""Class-stratified K-fold splits of a dataset (for cross-validation)."""
from typing import List, Sequence

import numpy as np


def stratified_folds(labels: Sequence[int], num_folds: int,
                     seed: int = 0) -> List[np.ndarray]:
    """Split sample positions ``0 … n−1`` into ``num_folds`` disjoint folds
    that cover them all, each class spread as evenly as possible.

    The samples of each class (classes in increasing order) are shuffled
    with ``numpy.random.default_rng(seed)`` and the concatenation of these
    shuffled lists is dealt round-robin: its ``p``-th sample goes to fold
    ``p mod K``. A class's samples are consecutive in that sequence, so
    every class has ``⌊n_c / K⌋`` or ``⌈n_c / K⌉`` samples in each fold, and
    every fold has ``⌊n / K⌋`` or ``⌈n / K⌉`` samples in all. The same
    labels and seed give the same folds.

    Args:
        labels: the class of each sample.
        num_folds: ``K``, 2 … n.
        seed: seed of the per-class shuffles.

    Returns:
        list of ``K`` sorted int64 arrays of sample positions.
    """
    labels = np.asarray(labels)
    if labels.ndim != 1:
        raise ValueError(f'labels must be one label per sample, got shape '
                         f'{labels.shape}')
    if isinstance(num_folds, bool) or not isinstance(
            num_folds, (int, np.integer)) or not 2 <= num_folds <= len(
                labels):
        raise ValueError(f'num_folds must be an int in [2, {len(labels)}] '
                         f'(the number of samples), got {num_folds!r}')
    rng = np.random.default_rng(seed)
    dealt = np.concatenate([
        rng.permutation(np.flatnonzero(labels == label))
        for label in np.unique(labels)
    ])
    return [np.sort(dealt[k::num_folds]) for k in range(num_folds)]
