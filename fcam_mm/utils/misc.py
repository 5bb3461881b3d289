"""Small helpers shared by the tools."""
import importlib.util
import os.path as osp
from types import ModuleType


def load_script(path: str) -> ModuleType:
    """Import a Python file that is not in a package (``tools/train.py``)
    as a module, so one tool can call another's ``main`` in-process."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'no script at {path}')
    spec = importlib.util.spec_from_file_location(
        osp.splitext(osp.basename(path))[0], path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
