"""Which mmengine and mmcv fcam_mm runs with, checked when it is imported.

The ranges are those of ``requirements/mminstall.txt`` (a test keeps the two
equal). mmcv is satisfied by either distribution that provides the ``mmcv``
package: ``mmcv`` (full, with the compiled ``mmcv.ops``, the OpenMMLab norm
where a prebuilt wheel exists for the user's torch/CUDA) or ``mmcv-lite``
(pure Python; what ``make install`` uses). Neither is an install requirement
of the package, as in mmpretrain: pip cannot express "one of two
distributions", and a requirement on either would replace the other. The
check here says what was found and what to install instead.

This module imports nothing of fcam_mm, so that ``fcam_mm/__init__`` can run
it before any submodule imports mmcv.
"""
import importlib
import importlib.metadata
import warnings
from typing import Dict, Optional

from mmengine.utils import digit_version

MMENGINE_MINIMUM_VERSION = '0.10.0'
MMENGINE_MAXIMUM_VERSION = '1.0.0'  # exclusive
MMCV_MINIMUM_VERSION = '2.0.0'
MMCV_MAXIMUM_VERSION = '2.3.0'  # exclusive

#: Distributions that install the ``mmcv`` package.
MMCV_DISTRIBUTIONS = ('mmcv', 'mmcv-lite', 'mmcv-full')

INSTALL_HINT = (
    'Install one of them (never both: they write the same package):\n'
    f'  pip install "mmcv-lite>={MMCV_MINIMUM_VERSION},'
    f'<{MMCV_MAXIMUM_VERSION}"   (any torch; no compiled ops), or\n'
    f'  mim install "mmcv>={MMCV_MINIMUM_VERSION},<{MMCV_MAXIMUM_VERSION}"'
    '   (prebuilt for your torch/CUDA; adds mmcv.ops such as CARAFE)')


def installed_mmcv_distributions() -> Dict[str, str]:
    """``{distribution: version}`` of the installed distributions among
    :data:`MMCV_DISTRIBUTIONS`."""
    found = {}
    for name in MMCV_DISTRIBUTIONS:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return found


def version_in_range(version: str, minimum: str, maximum: str) -> bool:
    """``minimum <= version < maximum`` in release order (``2.0.0rc4`` is
    below ``2.0.0``)."""
    return digit_version(minimum) <= digit_version(version) < \
        digit_version(maximum)


def check_mmengine(version: str) -> None:
    """Raise ImportError unless ``version`` is in the supported range."""
    if not version_in_range(version, MMENGINE_MINIMUM_VERSION,
                            MMENGINE_MAXIMUM_VERSION):
        raise ImportError(
            f'fcam_mm needs mmengine>={MMENGINE_MINIMUM_VERSION},'
            f'<{MMENGINE_MAXIMUM_VERSION}; mmengine=={version} is installed. '
            f'pip install "mmengine>={MMENGINE_MINIMUM_VERSION},'
            f'<{MMENGINE_MAXIMUM_VERSION}"')


def check_mmcv(version: Optional[str], location: str = '',
               distributions: Optional[Dict[str, str]] = None) -> None:
    """Raise ImportError unless an mmcv in the supported range imports.

    Args:
        version: ``mmcv.__version__``, or ``None`` when ``import mmcv``
            failed.
        location: where the imported package lives (for the message).
        distributions: the installed mmcv distributions
            (:func:`installed_mmcv_distributions` by default).
    """
    if distributions is None:
        distributions = installed_mmcv_distributions()
    found = ', '.join(f'{name}=={v}' for name, v in distributions.items()) \
        or 'no mmcv distribution'
    if version is None:
        raise ImportError(
            'fcam_mm needs mmcv (full) or mmcv-lite, '
            f'>={MMCV_MINIMUM_VERSION},<{MMCV_MAXIMUM_VERSION}; `import mmcv` '
            f'fails (installed: {found}).\n{INSTALL_HINT}')
    if not version_in_range(version, MMCV_MINIMUM_VERSION,
                            MMCV_MAXIMUM_VERSION):
        where = f' at {location}' if location else ''
        raise ImportError(
            f'mmcv=={version}{where} is imported (installed: {found}), but '
            f'fcam_mm supports mmcv or mmcv-lite >={MMCV_MINIMUM_VERSION},'
            f'<{MMCV_MAXIMUM_VERSION}.\n{INSTALL_HINT}')
    if len(distributions) > 1:
        warnings.warn(
            f'{found} are installed together; they write the same `mmcv` '
            'package, so which files you get depends on the install order. '
            'Uninstall all but one.', stacklevel=3)


def check_dependencies() -> None:
    """Check the imported mmengine and mmcv (called by ``fcam_mm``)."""
    import mmengine
    check_mmengine(mmengine.__version__)
    try:
        mmcv = importlib.import_module('mmcv')
    except ImportError:
        check_mmcv(None)
    else:
        check_mmcv(mmcv.__version__, getattr(mmcv, '__file__', '') or '')
