"""Install fcam_mm. Configs, tools and the model index travel inside the
package (``fcam_mm/.mim/``) so that ``mim`` finds them, as in the other
OpenMMLab toolboxes."""
import os
import os.path as osp
import shutil
import sys

from setuptools import find_packages, setup

HERE = osp.dirname(osp.abspath(__file__))
# checkpoints/: the small demo weights model-index.yml may point to.
MIM_FILES = ['configs', 'tools', 'model-index.yml', 'checkpoints']


def read_version():
    namespace = {}
    with open(osp.join(HERE, 'fcam_mm', 'version.py')) as f:
        exec(compile(f.read(), 'version.py', 'exec'), namespace)
    return namespace['__version__']


def parse_requirements(name):
    """Requirement lines of ``requirements/<name>.txt`` (comments and
    ``-r`` includes resolved)."""
    lines = []
    with open(osp.join(HERE, 'requirements', name)) as f:
        for line in f:
            line = line.split('#', 1)[0].strip()
            if not line:
                continue
            if line.startswith('-r '):
                lines += parse_requirements(osp.basename(line[3:].strip()))
            else:
                lines.append(line)
    return lines


def mmcv_requirement(distribution):
    """``[distribution + range]``, the range being mminstall.txt's mmcv
    line (the one place it is written for the package metadata)."""
    for line in parse_requirements('mminstall.txt'):
        if line.startswith('mmcv') and line[4:5] in '<>=!~':
            return [distribution + line[4:]]
    raise ValueError('requirements/mminstall.txt has no mmcv line')


def add_mim_extension():
    """Put configs/, tools/, model-index.yml and checkpoints/ (those that
    exist) under fcam_mm/.mim: links for an editable install, copies for a
    built package."""
    if 'develop' in sys.argv or any('editable' in a for a in sys.argv):
        mode = 'symlink'
    elif any(cmd in sys.argv for cmd in ('sdist', 'bdist_wheel', 'install',
                                          'build')):
        mode = 'copy'
    else:
        return
    mim_path = osp.join(HERE, 'fcam_mm', '.mim')
    os.makedirs(mim_path, exist_ok=True)
    for name in MIM_FILES:
        src = osp.join(HERE, name)
        dst = osp.join(mim_path, name)
        if not osp.exists(src):
            continue
        if osp.islink(dst) or osp.isfile(dst):
            os.remove(dst)
        elif osp.isdir(dst):
            shutil.rmtree(dst)
        if mode == 'symlink':
            os.symlink(osp.relpath(src, mim_path), dst)
        elif osp.isdir(src):
            shutil.copytree(src, dst)
        else:
            shutil.copyfile(src, dst)


def mim_package_data():
    """Every file under fcam_mm/.mim, listed one by one: ``**`` globs in
    ``package_data`` are not recursive before setuptools 62.3 (and
    installing openmim downgrades setuptools to 60.2), which would leave
    the configs out of the package."""
    package = osp.join(HERE, 'fcam_mm')
    files = []
    for root, dirs, names in os.walk(osp.join(package, '.mim'),
                                     followlinks=True):
        dirs[:] = [d for d in dirs if d != '__pycache__']
        files += [osp.relpath(osp.join(root, n), package) for n in names
                  if not n.endswith('.pyc')]
    return files


if __name__ == '__main__':
    add_mim_extension()
    setup(
        name='fcam_mm',
        version=read_version(),
        description='F-CAM and the WSOL evaluation protocol as an OpenMMLab '
        'toolbox',
        long_description=open(osp.join(HERE, 'README.md')).read(),
        long_description_content_type='text/markdown',
        keywords='weakly supervised object localization, CAM, F-CAM',
        packages=find_packages(exclude=('configs', 'tools', 'tests')),
        include_package_data=True,
        package_data={'fcam_mm': mim_package_data()},
        python_requires='>=3.9',
        license='Apache License 2.0',
        install_requires=parse_requirements('runtime.txt'),
        # mmcv is one of two distributions (fcam_mm/dependency_check.py):
        # pip install fcam_mm[lite] or fcam_mm[full]; mim reads mminstall.txt.
        extras_require=dict(
            lite=mmcv_requirement('mmcv-lite'),
            full=mmcv_requirement('mmcv'),
            tests=parse_requirements('tests.txt'),
            optional=parse_requirements('optional.txt'),
            mim=parse_requirements('mminstall.txt')),
        zip_safe=False)
