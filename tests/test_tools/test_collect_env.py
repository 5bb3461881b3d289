"""tools/misc/collect_env.py: mmengine's environment summary plus which
mmcv is installed and whether its compiled ops exist."""
import importlib.metadata
import sys
import types

from fcam_mm.utils import collect_env as collect_env_module
from .tool_helpers import load_tool


def test_prints_the_versions_installed(capsys):
    env = load_tool('misc/collect_env.py').main([])
    printed = capsys.readouterr().out.splitlines()
    for key in ('Python', 'PyTorch', 'TorchVision', 'MMEngine', 'MMCV',
                'MMCV compiled ops', 'fcam_mm'):
        assert any(line.startswith(f'{key}: ') for line in printed), key
    import fcam_mm
    import mmengine
    import torch
    assert env['PyTorch'] == torch.__version__
    assert env['MMEngine'] == mmengine.__version__
    assert env['fcam_mm'] == fcam_mm.__version__
    # This project's environment: mmcv-lite, no compiled ops.
    version = importlib.metadata.version('mmcv-lite')
    assert env['MMCV'] == f'{version} (mmcv-lite)'
    assert env['MMCV compiled ops'].startswith('none (mmcv-lite')


def test_full_mmcv_and_its_ops_are_reported(monkeypatch):
    def version(name):
        if name == 'mmcv':
            return '2.1.0'
        raise importlib.metadata.PackageNotFoundError(name)
    monkeypatch.setattr(collect_env_module.importlib.metadata, 'version',
                        version)
    assert collect_env_module.mmcv_distribution() == ('mmcv', '2.1.0')
    # an mmcv whose compiled extension exists and offers CARAFE only
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        collect_env_module.importlib.util, 'find_spec',
        lambda name, *a: object() if name in ('mmcv', 'mmcv._ext')
        else real_find_spec(name, *a))
    fake_ops = types.ModuleType('mmcv.ops')
    fake_ops.CARAFEPack = object
    monkeypatch.setitem(sys.modules, 'mmcv.ops', fake_ops)
    assert collect_env_module.mmcv_compiled_ops() == ['CARAFEPack']
    assert collect_env_module.collect_env()['MMCV compiled ops'] == \
        'CARAFEPack'


def test_no_mmcv_at_all(monkeypatch):
    def version(name):
        raise importlib.metadata.PackageNotFoundError(name)
    monkeypatch.setattr(collect_env_module.importlib.metadata, 'version',
                        version)
    assert collect_env_module.mmcv_distribution() is None
    assert collect_env_module.collect_env()['MMCV'] == 'not installed'
