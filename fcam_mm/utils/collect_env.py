"""The environment a bug report or a benchmark needs: mmengine's summary
(Python, CUDA, GPUs, compilers, PyTorch, TorchVision, OpenCV, MMEngine)
plus which mmcv is installed and whether its compiled ops are there."""
import importlib
import importlib.metadata
import importlib.util
from collections import OrderedDict
from typing import List, Optional, Tuple

from mmengine.utils.dl_utils import collect_env as collect_base_env

# Ops of full mmcv a config of ours may name (e.g. the decoder's upsampler).
MMCV_OPS_OF_INTEREST = ('CARAFEPack', 'DeformConv2dPack',
                        'ModulatedDeformConv2dPack')


def mmcv_distribution() -> Optional[Tuple[str, str]]:
    """(distribution, version) of the installed mmcv: ``mmcv`` (full, with
    compiled ops) or ``mmcv-lite``; ``None`` if neither is installed."""
    for name in ('mmcv', 'mmcv-lite', 'mmcv-full'):
        try:
            return name, importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return None


def mmcv_compiled_ops() -> List[str]:
    """The ops of :data:`MMCV_OPS_OF_INTEREST` that import and have their
    compiled extension (``mmcv._ext``); empty with mmcv-lite."""
    if importlib.util.find_spec('mmcv') is None or \
            importlib.util.find_spec('mmcv._ext') is None:
        return []
    ops = importlib.import_module('mmcv.ops')
    return [name for name in MMCV_OPS_OF_INTEREST if hasattr(ops, name)]


def collect_env() -> 'OrderedDict[str, str]':
    env = OrderedDict(collect_base_env())
    dist = mmcv_distribution()
    env['MMCV'] = 'not installed' if dist is None else f'{dist[1]} ({dist[0]})'
    ops = mmcv_compiled_ops()
    env['MMCV compiled ops'] = (
        ', '.join(ops) if ops else
        'none (mmcv-lite or no mmcv._ext; full mmcv 2.x provides them: '
        'https://mmcv.readthedocs.io/en/latest/get_started/installation.html)')
    from fcam_mm import __version__
    env['fcam_mm'] = __version__
    return env
