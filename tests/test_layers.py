"""Layers import downwards only (DESIGN.md §3): registry / structures / ops
-> datasets, models, evaluation -> visualization -> engine, apis. Checked on
every ``import`` statement of the package, deferred ones inside functions
included. ``fcam_mm.utils`` is the registration aggregator
(``register_all_modules`` imports every layer) and the checkpoint loader
that resolves model-zoo names; it is left out."""
import ast
import os
import os.path as osp

import fcam_mm

PACKAGE = osp.dirname(fcam_mm.__file__)
# What each layer may import from the package (besides itself and utils).
ALLOWED = {
    'registry': set(),
    'structures': {'registry'},
    'ops': {'registry'},
    'datasets': {'registry', 'structures'},
    'models': {'registry', 'structures', 'ops'},
    'evaluation': {'registry', 'structures'},
    'visualization': {'registry', 'structures', 'datasets', 'evaluation'},
    'engine': {'registry', 'structures', 'datasets', 'models', 'evaluation',
               'visualization'},
    'apis': {'registry', 'structures', 'ops', 'datasets', 'models',
             'evaluation', 'visualization'},
}


def imported_layers(path, module_parts, is_package=False):
    """(layer, line) of each import of a fcam_mm layer in ``path``; the
    module is ``module_parts`` (a package: its ``__init__``)."""
    tree = ast.parse(open(path).read(), path)
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.ImportFrom):
            if node.level:
                # '.' is the module's package, or the package itself
                drop = node.level - 1 if is_package else node.level
                base = module_parts[:len(module_parts) - drop]
                names.append('.'.join(base + ([node.module]
                                              if node.module else [])))
            else:
                names.append(node.module or '')
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        for name in names:
            parts = name.split('.')
            if parts[0] == 'fcam_mm' and len(parts) > 1:
                yield parts[1], node.lineno


def test_layers_import_downwards_only():
    wrong = []
    for root, _, files in os.walk(PACKAGE):
        for name in files:
            if not name.endswith('.py'):
                continue
            path = osp.join(root, name)
            rel = osp.relpath(path, osp.dirname(PACKAGE))[:-3]
            parts = rel.split(os.sep)
            is_package = parts[-1] == '__init__'
            if is_package:
                parts = parts[:-1]
            if len(parts) < 2 or parts[1] not in ALLOWED:
                continue
            layer = parts[1]
            for target, line in imported_layers(path, parts, is_package):
                if target in (layer, 'utils', 'version'):
                    continue
                if target not in ALLOWED[layer]:
                    wrong.append(f'{rel}.py:{line}: {layer} imports {target}')
    assert not wrong, '\n'.join(wrong)


def test_the_check_sees_a_deferred_upward_import(tmp_path):
    module = tmp_path / 'samples.py'
    module.write_text('def f():\n    from fcam_mm.apis import x\n'
                      'from ..apis.inference import y\n')
    found = imported_layers(str(module),
                            ['fcam_mm', 'visualization', 'samples'])
    assert sorted(found) == [('apis', 2), ('apis', 3)]
    package = tmp_path / '__init__.py'
    package.write_text('from .inference import z\nfrom ..apis import w\n')
    found = imported_layers(str(package), ['fcam_mm', 'visualization'],
                            is_package=True)
    assert sorted(found) == [('apis', 2), ('visualization', 1)]
