"""Model names from model-index.yml: parsing, lookup, and loading by name
through every entry point (mmengine's loader, init_cfg, init_localizer)."""
import os
import os.path as osp
import re

import pytest
import torch
import yaml
from mmengine.config import Config
from mmengine.runner.checkpoint import _load_checkpoint

from fcam_mm.apis import (NoWeightsError, UnknownModelError, get_model,
                          init_localizer, list_models, load_model_index)
from fcam_mm.apis.model_zoo import ModelIndexError, default_index_path
from fcam_mm.registry import MODELS
from fcam_mm.utils import CheckpointDownloadError
from .zoo_helpers import (perturbed_checkpoint, save_hash_named,
                          serve_folder, write_zoo)

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


@pytest.fixture(scope='module')
def trained_state():
    return perturbed_checkpoint()


HASH_NAME = re.compile(r'-[0-9a-f]{8,}\.pth$')


def assert_state_equal(model, state):
    own = model.state_dict()
    assert set(own) == set(state)
    for key, value in state.items():
        assert torch.equal(own[key], value), key


# -- the repository's own index --------------------------------------------
def test_repository_index_entries_are_usable():
    entries = load_model_index(osp.join(REPO, 'model-index.yml'))
    assert 'fcam_tinyresnet_synthetic' in entries
    for name, entry in entries.items():
        assert name == name.lower(), 'mim lower-cases names'
        assert osp.isfile(entry.config), (name, entry.config)
        if entry.weights is not None:
            # Published weights follow the name-<sha256 prefix>.pth rule.
            assert HASH_NAME.search(entry.weights), entry.weights
            if not entry.weights.startswith(('http://', 'https://')):
                assert osp.isfile(entry.weights), entry.weights
        for result in entry.results:
            assert {'Task', 'Dataset', 'Metrics'} <= set(result), name
            assert all(isinstance(v, (int, float))
                       for v in result['Metrics'].values()), name


def test_mims_parser_reads_the_same_index():
    """mim reads the index with the model-index package; it must see the
    same names, configs and weights as fcam_mm does."""
    modelindex = pytest.importorskip('modelindex.load_model_index')
    path = osp.join(REPO, 'model-index.yml')
    parsed = modelindex.load(path)
    ours = load_model_index(path)
    assert sorted(m.name for m in parsed.models) == sorted(ours)
    for model in parsed.models:
        assert osp.join(REPO, model.config) == ours[model.name].config
        theirs = model.weights
        if theirs is not None and not theirs.startswith('http'):
            theirs = osp.join(REPO, theirs)
        assert theirs == ours[model.name].weights


def test_packaged_index_is_the_default():
    packaged = osp.join(REPO, 'fcam_mm', '.mim', 'model-index.yml')
    expected = packaged if osp.isfile(packaged) else osp.join(
        REPO, 'model-index.yml')
    assert default_index_path() == expected


# -- parsing and lookup -----------------------------------------------------
def test_index_paths_resolve_against_the_root(tmp_path, trained_state):
    index, shipped = write_zoo(tmp_path, trained_state[1],
                               'https://example.invalid/w-0123abcd.pth')
    entries = load_model_index(index)
    assert list_models(index) == ['demo_local', 'demo_null', 'demo_url']
    local = entries['demo_local']
    assert local.config == str(tmp_path / 'configs' / 'demo' / 'tiny3.py')
    assert local.weights == str(tmp_path / 'checkpoints' / shipped)
    assert local.metafile == str(tmp_path / 'configs' / 'demo' /
                                 'metafile.yml')
    assert local.collection == 'Demo'
    assert entries['demo_null'].weights is None
    assert entries['demo_url'].weights == \
        'https://example.invalid/w-0123abcd.pth'


def test_unknown_name_lists_close_names(tmp_path, trained_state):
    index, _ = write_zoo(tmp_path, trained_state[1])
    with pytest.raises(UnknownModelError,
                       match=r"'demo_locl' is not an existing file and not a "
                       r'model name in .*model-index.yml \(close names: '
                       r'demo_local'):
        get_model('demo_locl', index)
    with pytest.raises(UnknownModelError,
                       match=r'the index has: demo_local, demo_null'):
        get_model('resnet50', index)


@pytest.mark.parametrize('models, message', [
    ([dict(Name='a', Config='c.py'), dict(Name='a', Config='d.py')],
     r"model name 'a' is defined twice: in .*metafile.yml and in "
     r'.*metafile.yml'),
    ([dict(Name='a')], r"metafile.yml: model .* has no Config"),
    ([dict(Name='a', Config='c.py', **{'In Collection': 'Nope'})],
     r"In Collection 'Nope', which no Collections list defines"),
    ([dict(Name='a', Config='c.py', Weights=['x', 'y'])],
     r'Weights of .a. must be a URL, a path relative to'),
])
def test_malformed_index_is_named(tmp_path, models, message):
    (tmp_path / 'metafile.yml').write_text(yaml.safe_dump(dict(
        Models=models)))
    (tmp_path / 'model-index.yml').write_text('Import:\n  - metafile.yml\n')
    with pytest.raises(ModelIndexError, match=message):
        load_model_index(str(tmp_path / 'model-index.yml'))


def test_missing_import_is_named(tmp_path):
    (tmp_path / 'model-index.yml').write_text('Import:\n  - nowhere.yml\n')
    with pytest.raises(ModelIndexError, match=r"Import 'nowhere.yml' -> "
                       r'.*nowhere.yml does not exist'):
        load_model_index(str(tmp_path / 'model-index.yml'))


# -- loading by name --------------------------------------------------------
def test_name_loads_through_mmengine_and_init_cfg(tmp_path, trained_state,
                                                  monkeypatch):
    state, checkpoint = trained_state
    index, _ = write_zoo(tmp_path, checkpoint)
    monkeypatch.setenv('FCAM_MM_MODEL_INDEX', index)
    # What Runner(load_from=NAME) and tools/test.py CONFIG NAME call.
    ckpt = _load_checkpoint('demo_local', map_location='cpu')
    assert ckpt['meta']['dataset_meta']['classes'] == ('a', 'b', 'c')
    # init_cfg=dict(type='Pretrained', checkpoint=NAME).
    cfg = Config.fromfile(str(tmp_path / 'configs' / 'demo' / 'tiny3.py'))
    cfg.model.init_cfg = dict(type='Pretrained', checkpoint='demo_local')
    model = MODELS.build(cfg.model)
    model.init_weights()
    assert_state_equal(model, state)


def test_init_localizer_by_name(tmp_path, trained_state, monkeypatch):
    state, checkpoint = trained_state
    index, _ = write_zoo(tmp_path, checkpoint)
    monkeypatch.setenv('FCAM_MM_MODEL_INDEX', index)
    model = init_localizer('demo_local')
    assert_state_equal(model, state)
    assert model.dataset_meta['classes'] == ('a', 'b', 'c')
    assert model.cfg.model.head.num_classes == 3
    # A name for the config, a path for the weights.
    path = str(tmp_path / 'other.pth')
    torch.save(checkpoint, path)
    assert_state_equal(init_localizer('demo_null', path), state)
    with pytest.raises(NoWeightsError,
                       match=r"'demo_null' has no published weights "
                       r'\(Weights: null in .*metafile.yml\)'):
        init_localizer('demo_null')


def test_shipped_weights_are_hash_checked(tmp_path, trained_state,
                                          monkeypatch):
    index, shipped = write_zoo(tmp_path, trained_state[1])
    monkeypatch.setenv('FCAM_MM_MODEL_INDEX', index)
    with open(tmp_path / 'checkpoints' / shipped, 'r+b') as f:
        f.seek(100)
        f.write(b'\0' * 8)
    with pytest.raises(CheckpointDownloadError,
                       match=r"model 'demo_local'.*does not start with"):
        init_localizer('demo_local')
    os.remove(tmp_path / 'checkpoints' / shipped)
    with pytest.raises(FileNotFoundError,
                       match=r'its Weights file .* is missing'):
        init_localizer('demo_local')


def test_url_weights_are_downloaded_once(tmp_path, trained_state,
                                         monkeypatch):
    state, checkpoint = trained_state
    served = tmp_path / 'served'
    served.mkdir()
    name = save_hash_named(checkpoint, served, 'demo_url')
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'torch_home'))
    with serve_folder(served) as (server, url):
        index, _ = write_zoo(tmp_path / 'zoo', checkpoint, f'{url}/{name}')
        monkeypatch.setenv('FCAM_MM_MODEL_INDEX', index)
        assert_state_equal(init_localizer('demo_url'), state)
        assert_state_equal(init_localizer('demo_url'), state)
        assert server.requests == [f'/{name}']
    assert (tmp_path / 'torch_home' / 'hub' / 'checkpoints' / name).is_file()


def test_paths_are_never_taken_for_names(tmp_path, trained_state,
                                         monkeypatch):
    index, _ = write_zoo(tmp_path, trained_state[1])
    monkeypatch.setenv('FCAM_MM_MODEL_INDEX', index)
    with pytest.raises(FileNotFoundError,
                       match=r'checkpoint work_dirs/x/demo_local can not be '
                       'found'):
        _load_checkpoint('work_dirs/x/demo_local')
    with pytest.raises(FileNotFoundError,
                       match=r'config file configs/demo_local.py does not '
                       'exist'):
        init_localizer('configs/demo_local.py')
    # A bare file name that does not exist is looked up, then reported
    # with both readings.
    with pytest.raises(UnknownModelError,
                       match=r"'epoch_3.pth' is not an existing file and not "
                       'a model name'):
        _load_checkpoint('epoch_3.pth')


def test_linked_index_resolves_in_the_linked_folder(tmp_path, trained_state):
    """An editable install links fcam_mm/.mim/model-index.yml to the
    repository's: paths resolve in the repository, including files added
    after the links were made."""
    index, shipped = write_zoo(tmp_path / 'repo', trained_state[1])
    mim = tmp_path / 'pkg' / '.mim'
    mim.mkdir(parents=True)
    os.symlink(index, mim / 'model-index.yml')
    entry = get_model('demo_local', str(mim / 'model-index.yml'))
    assert entry.weights == str(tmp_path / 'repo' / 'checkpoints' / shipped)
    assert osp.isfile(entry.config)


def test_mim_download_fetches_weights_and_config(tmp_path, trained_state,
                                                 monkeypatch):
    """``mim download fcam_mm --config NAME`` with our index layout: mim
    finds the index under <package>/.mim, downloads Weights (a loopback
    URL here) and dumps the config. Runs where openmim is installed (it
    needs pkg_resources, i.e. setuptools < 81; see docs/model_zoo.md)."""
    pytest.importorskip('pkg_resources')
    download = pytest.importorskip('mim.commands.download')
    search = pytest.importorskip('mim.commands.search')
    state, checkpoint = trained_state
    served = tmp_path / 'served'
    served.mkdir()
    name = save_hash_named(checkpoint, served, 'demo_url')
    with serve_folder(served) as (server, url):
        package = tmp_path / 'site' / 'fcam_mm'
        index, _ = write_zoo(package / '.mim', checkpoint, f'{url}/{name}')
        # mim looks the package up among the installed distributions; point
        # it at this package folder instead of the installed fcam_mm.
        for module in (download, search):
            monkeypatch.setattr(module, 'get_installed_path',
                                lambda pkg: str(package), raising=False)
        monkeypatch.setattr(download, 'is_installed', lambda pkg: True)
        monkeypatch.setattr(search, 'is_installed', lambda pkg: True)
        dest = tmp_path / 'dest'
        got = download.download('fcam_mm', ['demo_url'], str(dest))
        assert got == [name]
        assert server.requests == [f'/{name}']
    ckpt = torch.load(dest / name, weights_only=True)
    for key, value in state.items():
        assert torch.equal(ckpt['state_dict'][key], value), key
    dumped = Config.fromfile(str(dest / 'demo_url.py'))
    assert dumped.model.head.num_classes == 3
