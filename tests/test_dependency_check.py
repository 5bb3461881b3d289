"""The import-time check of mmengine/mmcv (fcam_mm/dependency_check.py):
ranges, messages, and ``import fcam_mm`` against a fake old or broken mmcv."""
import os
import os.path as osp
import subprocess
import sys
import warnings

import pytest

from fcam_mm import dependency_check as dc

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))


@pytest.mark.parametrize('version,expected', [
    ('2.0.0', True), ('2.2.0', True), ('2.2.99', True),
    ('2.0.0rc4', False),  # a pre-release sorts below its release
    ('2.3.0', False), ('1.7.2', False), ('3.0.0', False)])
def test_mmcv_range(version, expected):
    assert dc.version_in_range(version, '2.0.0', '2.3.0') is expected


def read_requirement(name, distribution):
    with open(osp.join(REPO, 'requirements', name)) as f:
        for line in f:
            line = line.split('#', 1)[0].strip()
            if line.startswith(distribution) and \
                    line[len(distribution):len(distribution) + 1] in '<>=':
                return line[len(distribution):]
    raise AssertionError(f'{distribution} not in {name}')


def test_ranges_equal_the_requirement_files():
    mmcv = f'>={dc.MMCV_MINIMUM_VERSION},<{dc.MMCV_MAXIMUM_VERSION}'
    mmengine = (f'>={dc.MMENGINE_MINIMUM_VERSION},'
                f'<{dc.MMENGINE_MAXIMUM_VERSION}')
    assert read_requirement('mminstall.txt', 'mmcv') == mmcv
    assert read_requirement('mminstall.txt', 'mmengine') == mmengine
    assert read_requirement('runtime.txt', 'mmengine') == mmengine


def test_constraints_pin_what_is_supported():
    """The lock file's mmcv-lite / mmengine / torch sit in the ranges."""
    pins = {}
    with open(osp.join(REPO, 'requirements', 'constraints.txt')) as f:
        for line in f:
            line = line.split('#', 1)[0].strip()
            if line:
                name, version = line.split('==')
                pins[name.lower()] = version
    assert dc.version_in_range(pins['mmcv-lite'], dc.MMCV_MINIMUM_VERSION,
                               dc.MMCV_MAXIMUM_VERSION)
    assert dc.version_in_range(pins['mmengine'], dc.MMENGINE_MINIMUM_VERSION,
                               dc.MMENGINE_MAXIMUM_VERSION)
    assert pins['torch'] == '2.14.1' and pins['torchvision'] == '0.29.1'
    assert 'mmcv' not in pins  # never both


def test_missing_mmcv_says_what_to_install():
    with pytest.raises(ImportError) as info:
        dc.check_mmcv(None, distributions={})
    message = str(info.value)
    assert 'no mmcv distribution' in message
    assert 'pip install "mmcv-lite>=2.0.0,<2.3.0"' in message
    assert 'mim install "mmcv>=2.0.0,<2.3.0"' in message


def test_old_mmcv_names_version_place_and_range():
    with pytest.raises(ImportError) as info:
        dc.check_mmcv('1.7.2', '/env/mmcv/__init__.py',
                      distributions={'mmcv-full': '1.7.2'})
    message = str(info.value)
    assert 'mmcv==1.7.2 at /env/mmcv/__init__.py' in message
    assert 'installed: mmcv-full==1.7.2' in message
    assert '>=2.0.0,<2.3.0' in message


def test_full_and_lite_together_warn():
    with pytest.warns(UserWarning, match='mmcv==2.1.0, mmcv-lite==2.2.0'):
        dc.check_mmcv('2.2.0', distributions={'mmcv': '2.1.0',
                                              'mmcv-lite': '2.2.0'})


@pytest.mark.parametrize('distribution', ['mmcv', 'mmcv-lite'])
def test_either_distribution_passes_quietly(distribution):
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        dc.check_mmcv('2.2.0', distributions={distribution: '2.2.0'})


def test_mmengine_range():
    dc.check_mmengine('0.10.7')
    with pytest.raises(ImportError, match='mmengine==0.9.1 is installed'):
        dc.check_mmengine('0.9.1')


@pytest.mark.parametrize('init,expected', [
    ("__version__ = '1.7.2'\n", 'mmcv==1.7.2 at '),
    ("raise ImportError('simulated: mmcv is not installed')\n",
     '`import mmcv` fails'),
])
def test_import_fcam_mm_with_a_bad_mmcv(tmp_path, init, expected):
    """``import fcam_mm`` in a fresh interpreter that finds a fake mmcv
    first: one ImportError with the message, before any submodule."""
    fake = tmp_path / 'mmcv'
    fake.mkdir()
    (fake / '__init__.py').write_text(init)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(tmp_path), REPO, os.environ.get('PYTHONPATH', '')]))
    proc = subprocess.run([sys.executable, '-c', 'import fcam_mm'],
                          env=env, capture_output=True, text=True)
    assert proc.returncode != 0
    last = proc.stderr.strip().splitlines()
    assert any(line.startswith('ImportError:') for line in last)
    assert expected in proc.stderr
    assert 'pip install "mmcv-lite>=2.0.0,<2.3.0"' in proc.stderr
