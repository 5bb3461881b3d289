"""Argument checks shared by F-CAM's losses."""
import math
import numbers


def check_loss_weight(name: str, value) -> float:
    """``value`` as a float if it is a finite real number >= 0, else a
    ``ValueError`` naming ``name`` (e.g. ``'loss_weight (λ of the CRF)'``).

    A negative weight would turn the term into a reward (the optimiser
    would maximise the CRF energy or the seeds' cross-entropy); NaN or inf
    make every loss NaN from the first step.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real) \
            or not 0 <= float(value) < math.inf:
        raise ValueError(f'{name} must be a finite number >= 0, got '
                         f'{value!r}')
    return float(value)


def check_positive(name: str, value) -> float:
    """``value`` as a float if it is a finite real number > 0, else a
    ``ValueError`` naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) \
            or not 0 < float(value) < math.inf:
        raise ValueError(f'{name} must be a finite number > 0, got '
                         f'{value!r}')
    return float(value)
