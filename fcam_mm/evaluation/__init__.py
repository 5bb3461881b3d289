"""Evaluation: the WSOL protocol of Choe et al. (CVPR 2020)."""
from .functional import *  # noqa: F401,F403
from .metrics import *  # noqa: F401,F403
