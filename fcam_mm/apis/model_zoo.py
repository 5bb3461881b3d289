"""The model zoo: ``model-index.yml`` and the names it gives to models.

The index is in the OpenMMLab format that ``mim`` reads: a root file whose
``Import`` lists ``configs/*/metafile.yml`` files, each with ``Collections``
and ``Models`` (``Name``, ``In Collection``, ``Config``, ``Weights``,
``Metadata``, ``Results``). Paths in ``Import`` are relative to the file that
imports them; ``Config`` and a relative ``Weights`` path are relative to the
root index's folder (the repository, or ``fcam_mm/.mim`` in an installed
package), as ``mim`` resolves ``Config``. Shipped weights live in
``checkpoints/`` (packaged into ``fcam_mm/.mim/checkpoints``).

``Weights`` is one of

- an ``http(s)://`` URL: downloaded once into the torch hub cache and checked
  against the SHA-256 prefix in its file name (``name-<8 hex>.pth``);
- a path relative to the index folder: a file shipped with the repository or
  the package (the small synthetic-demo checkpoints), checked the same way;
- ``null``: no published weights (the entry still names its config).

Which index: ``$FCAM_MM_MODEL_INDEX`` when set, else the packaged
``fcam_mm/.mim/model-index.yml``, else the repository's ``model-index.yml``.
"""
import difflib
import os
import os.path as osp
from dataclasses import dataclass, field
from typing import Dict, List, Optional

import yaml

INDEX_ENV = 'FCAM_MM_MODEL_INDEX'
URL_SCHEMES = ('http://', 'https://')


class UnknownModelError(FileNotFoundError):
    """A string that is neither an existing file nor a model name in the
    index. A :class:`FileNotFoundError`, since that is what a missing
    checkpoint or config raised before names existed."""


class NoWeightsError(FileNotFoundError):
    """The model is in the index but has ``Weights: null``."""


class ModelIndexError(ValueError):
    """The index (or a metafile it imports) is malformed."""


@dataclass
class ModelZooEntry:
    """One ``Models`` item, with its paths resolved.

    ``config``: absolute path; ``weights``: an http(s) URL, an absolute path,
    or ``None``; ``metafile``: the file that defines the entry.
    """
    name: str
    config: str
    weights: Optional[str]
    metafile: str
    collection: Optional[str] = None
    metadata: dict = field(default_factory=dict)
    results: list = field(default_factory=list)


def is_url(path: str) -> bool:
    return isinstance(path, str) and path.startswith(URL_SCHEMES)


def default_index_path() -> str:
    """``$FCAM_MM_MODEL_INDEX``, the packaged index, or the repository's."""
    env = os.environ.get(INDEX_ENV)
    if env:
        if not osp.isfile(env):
            raise FileNotFoundError(
                f'${INDEX_ENV}={env} is not a file (it should name a '
                'model-index.yml)')
        return env
    package = osp.dirname(osp.dirname(osp.abspath(__file__)))
    candidates = [
        osp.join(package, '.mim', 'model-index.yml'),
        osp.join(osp.dirname(package), 'model-index.yml'),
    ]
    for path in candidates:
        if osp.isfile(path):
            return path
    raise FileNotFoundError(
        'no model index found; looked for ' + ', '.join(candidates) +
        f' (set ${INDEX_ENV} to use another one)')


def _read_yaml(path: str) -> dict:
    try:
        with open(path) as f:
            data = yaml.safe_load(f)
    except yaml.YAMLError as e:
        raise ModelIndexError(f'{path}: not valid YAML ({e})') from e
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ModelIndexError(f'{path}: expected a mapping with Import / '
                              f'Collections / Models, got {type(data)}')
    return data


def _collect(path: str, root: str, models: list, collections: dict,
             seen: set) -> None:
    path = osp.abspath(path)
    if path in seen:
        raise ModelIndexError(f'{path} is imported twice (import cycle?)')
    seen.add(path)
    data = _read_yaml(path)
    unknown = set(data) - {'Import', 'Collections', 'Models'}
    if unknown:
        raise ModelIndexError(f'{path}: unknown top-level keys '
                              f'{sorted(unknown)}; expected Import, '
                              'Collections, Models')
    for item in data.get('Collections') or []:
        if not isinstance(item, dict) or 'Name' not in item:
            raise ModelIndexError(f'{path}: every Collections item needs a '
                                  f'Name, got {item!r}')
        collections[item['Name']] = item
    for item in data.get('Models') or []:
        if not isinstance(item, dict):
            raise ModelIndexError(f'{path}: a Models item must be a '
                                  f'mapping, got {item!r}')
        models.append((path, item))
    for child in data.get('Import') or []:
        child_path = osp.join(osp.dirname(path), child)
        if not osp.isfile(child_path):
            raise ModelIndexError(f'{path}: Import {child!r} -> '
                                  f'{child_path} does not exist')
        _collect(child_path, root, models, collections, seen)


def load_model_index(index: Optional[str] = None) -> Dict[str, ModelZooEntry]:
    """Parse ``index`` (default :func:`default_index_path`) and the metafiles
    it imports into ``{name: ModelZooEntry}``.

    Raises :class:`ModelIndexError` naming the file for a model without
    ``Name`` or ``Config``, a duplicated name, an unknown ``In Collection``
    or a ``Weights`` value that is not a string or null.
    """
    # realpath: in an editable install fcam_mm/.mim/model-index.yml links
    # to the repository's, whose folder holds configs/ and checkpoints/
    # even when they were added after the install made the links.
    index = osp.realpath(index or default_index_path())
    root = osp.dirname(index)
    raw_models, collections = [], {}
    _collect(index, root, raw_models, collections, set())
    entries = {}
    for metafile, item in raw_models:
        for key in ('Name', 'Config'):
            if not item.get(key):
                raise ModelIndexError(f'{metafile}: model {item!r} has no '
                                      f'{key}')
        name = item['Name']
        if name in entries:
            raise ModelIndexError(
                f'model name {name!r} is defined twice: in '
                f'{entries[name].metafile} and in {metafile}')
        collection = item.get('In Collection')
        if collection is not None and collection not in collections:
            raise ModelIndexError(
                f'{metafile}: model {name!r} is In Collection '
                f'{collection!r}, which no Collections list defines '
                f'(defined: {sorted(collections)})')
        weights = item.get('Weights')
        if weights is not None and not isinstance(weights, str):
            raise ModelIndexError(
                f'{metafile}: Weights of {name!r} must be a URL, a path '
                f'relative to {root}, or null; got {weights!r}')
        if weights is not None and not is_url(weights):
            weights = osp.join(root, weights)
        entries[name] = ModelZooEntry(
            name=name,
            config=osp.join(root, item['Config']),
            weights=weights,
            metafile=metafile,
            collection=collection,
            metadata=dict(item.get('Metadata') or {}),
            results=list(item.get('Results') or []))
    return entries


def list_models(index: Optional[str] = None) -> List[str]:
    """The model names in the index, sorted."""
    return sorted(load_model_index(index))


def close_names(name: str, names: List[str], limit: int = 5) -> List[str]:
    """Names that look like ``name``: difflib's close matches first, then
    names that contain it (or that it contains)."""
    close = difflib.get_close_matches(name, names, n=limit, cutoff=0.6)
    lowered = name.lower()
    for candidate in sorted(names):
        if len(close) >= limit:
            break
        other = candidate.lower()
        if candidate not in close and (lowered in other or other in lowered):
            close.append(candidate)
    return close


def get_model(name: str, index: Optional[str] = None) -> ModelZooEntry:
    """The entry called ``name``; :class:`UnknownModelError` lists the close
    names (or all names when none is close)."""
    index = index or default_index_path()
    entries = load_model_index(index)
    if name in entries:
        return entries[name]
    names = sorted(entries)
    close = close_names(name, names)
    if close:
        hint = 'close names: ' + ', '.join(close)
    elif len(names) <= 10:
        hint = 'the index has: ' + ', '.join(names)
    else:
        hint = (f'none is close; {len(names)} names, listed by '
                'fcam_mm.apis.list_models()')
    raise UnknownModelError(
        f'{name!r} is not an existing file and not a model name in '
        f'{index} ({hint})')


def weights_of(entry: ModelZooEntry) -> str:
    """The entry's weights (URL or absolute path), or :class:`NoWeightsError`
    when it has none."""
    if entry.weights is None:
        raise NoWeightsError(
            f'model {entry.name!r} has no published weights (Weights: null '
            f'in {entry.metafile}); train {entry.config} and pass the '
            'checkpoint path instead of the name')
    if not is_url(entry.weights) and not osp.isfile(entry.weights):
        raise FileNotFoundError(
            f'model {entry.name!r}: its Weights file {entry.weights} '
            f'(listed in {entry.metafile}) is missing from this checkout or '
            'package')
    return entry.weights


def looks_like_path(spec: str) -> bool:
    """A string with a directory separator is a path, never a name."""
    return '/' in spec or (os.sep != '/' and os.sep in spec)


def resolve_checkpoint(spec: str, index: Optional[str] = None) -> str:
    """What ``spec`` loads from: itself if it is a URL or an existing file,
    else the ``Weights`` of the model it names.

    A string with a path separator that is not a file raises
    :class:`FileNotFoundError`; an unknown name :class:`UnknownModelError`
    with the close names; a name without weights :class:`NoWeightsError`.
    """
    spec = osp.expanduser(spec)
    if is_url(spec) or osp.isfile(spec):
        return spec
    if looks_like_path(spec):
        raise FileNotFoundError(f'checkpoint {spec} can not be found (no '
                                'such file)')
    return weights_of(get_model(spec, index))
