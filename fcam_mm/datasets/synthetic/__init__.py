"""The embedded synthetic WSOL dataset (see ``parts_hard``)."""
from .parts_hard import *  # noqa: F401,F403
from .parts_hard import __all__  # noqa: F401
