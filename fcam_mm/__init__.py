"""fcam_mm: F-CAM (Belharbi et al., WACV 2022) and the WSOL protocol of Choe
et al. (CVPR 2020) as an OpenMMLab 2.0 toolbox."""
from .dependency_check import check_dependencies
from .version import __version__, version_info

# Before any submodule imports mmcv: a missing or unsupported mmcv/mmengine
# is named here, with what to install, instead of failing deep in an import.
check_dependencies()

__all__ = ['__version__', 'version_info']
