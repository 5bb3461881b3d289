"""Checkpoints load with weights_only=True and the mmengine allow-list."""
import os
import shutil

import numpy as np
import pytest
import torch
from mmengine.logging import HistoryBuffer, MessageHub
from mmengine.runner.checkpoint import _load_checkpoint, save_checkpoint

from fcam_mm.utils import (CheckpointDownloadError, UnsafeCheckpointError,
                           verify_hash_prefix)
from tests.test_apis.zoo_helpers import save_hash_named, serve_folder


class RunsCode:
    """Unpickling this calls ``os.mkdir(path)`` — the kind of side effect a
    malicious checkpoint would use."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return os.mkdir, (self.path, )


class ReachesGlobals:
    """Pickles as ``getattr(HistoryBuffer.mean, '__globals__')``: a getattr
    gadget that would expose a module's globals."""

    def __reduce__(self):
        return getattr, (HistoryBuffer.mean, '__globals__')


def mmengine_style_checkpoint():
    hub = MessageHub('test-checkpoint')
    for value in (1.5, 2.5, 4.0):
        hub.update_scalar('train/loss', value)
    hub.update_info('epoch', 3)
    return dict(
        meta=dict(epoch=3, iter=30, seed=0, message_hub=hub.state_dict(),
                  dataset_meta=dict(classes=('a', 'b'))),
        state_dict=dict(w=torch.arange(4.0)),
        optimizer=dict(state={}, param_groups=[dict(lr=0.1, params=[0])]),
        param_schedulers=[dict(last_epoch=3, base_lrs=[0.1])])


def test_mmengine_checkpoint_round_trip(tmp_path):
    path = str(tmp_path / 'epoch_3.pth')
    save_checkpoint(mmengine_style_checkpoint(), path)
    ckpt = _load_checkpoint(path, map_location='cpu')
    buffer = ckpt['meta']['message_hub']['log_scalars']['train/loss']
    assert isinstance(buffer, HistoryBuffer)
    np.testing.assert_allclose(buffer.data[0], [1.5, 2.5, 4.0])
    assert buffer.mean() == pytest.approx(8.0 / 3)
    assert buffer.statistics('max') == 4.0
    assert torch.equal(ckpt['state_dict']['w'], torch.arange(4.0))


def test_pickled_callable_is_refused(tmp_path):
    target = tmp_path / 'created_by_unpickling'
    path = str(tmp_path / 'evil.pth')
    torch.save(dict(state_dict={}, payload=RunsCode(str(target))), path)
    with pytest.raises(UnsafeCheckpointError,
                       match=r'Refusing to load checkpoint .*evil\.pth.*'
                       r'mkdir.*never loads with weights_only=False'):
        _load_checkpoint(path)
    assert not target.exists()


def test_getattr_is_only_allowed_for_history_buffer_methods(tmp_path):
    path = str(tmp_path / 'gadget.pth')
    torch.save(dict(payload=ReachesGlobals()), path)
    with pytest.raises(UnsafeCheckpointError, match='getattr'):
        _load_checkpoint(path)


@pytest.fixture
def served(tmp_path, monkeypatch):
    """A loopback server over ``tmp_path/served`` and a fresh torch hub
    cache; yields ``(root, base_url, server, cache_dir)``."""
    root = tmp_path / 'served'
    root.mkdir()
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'torch_home'))
    with serve_folder(root) as (server, url):
        yield root, url, server, tmp_path / 'torch_home' / 'hub' / \
            'checkpoints'


def cache_listing(cache_dir):
    return sorted(os.listdir(cache_dir)) if cache_dir.is_dir() else []


def test_http_checkpoint_is_downloaded_verified_and_cached(served):
    root, url, server, cache_dir = served
    good = save_hash_named(mmengine_style_checkpoint(), root, 'model')
    ckpt = _load_checkpoint(f'{url}/{good}', map_location='cpu')
    assert torch.equal(ckpt['state_dict']['w'], torch.arange(4.0))
    assert cache_listing(cache_dir) == [good]
    assert server.requests == [f'/{good}']
    # The second load is a cache hit: no request reaches the server.
    again = _load_checkpoint(f'{url}/{good}', map_location='cpu')
    assert torch.equal(again['state_dict']['w'], torch.arange(4.0))
    assert server.requests == [f'/{good}']


def test_hash_mismatch_is_refused_and_not_cached(served):
    root, url, server, cache_dir = served
    good = save_hash_named(mmengine_style_checkpoint(), root, 'model')
    digest = good[len('model-'):-len('.pth')]
    # Same bytes under a name whose prefix differs in its first digit.
    wrong = 'model-{}{}.pth'.format('0' if digest[0] != '0' else '1',
                                    digest[1:])
    shutil.copy(root / good, root / wrong)
    with pytest.raises(CheckpointDownloadError,
                       match=r'does not start with .*hash prefix in its '
                       r'file name; refused and not cached'):
        _load_checkpoint(f'{url}/{wrong}')
    assert cache_listing(cache_dir) == []


@pytest.mark.parametrize('hash_named', [True, False])
def test_truncated_download_is_refused_and_not_cached(served, hash_named):
    root, url, server, cache_dir = served
    if hash_named:
        name = save_hash_named(mmengine_style_checkpoint(), root, 'model')
    else:
        # Without a hash in the name only the length check can catch it.
        name = 'model.pth'
        save_checkpoint(mmengine_style_checkpoint(), str(root / name))
    size = (root / name).stat().st_size
    server.truncated.add(name)
    with pytest.raises(CheckpointDownloadError,
                       match=rf'stopped after {size // 2} of {size} bytes'):
        _load_checkpoint(f'{url}/{name}')
    # Neither the file nor a partial download is left behind.
    assert cache_listing(cache_dir) == []
    # Once the server behaves, the same URL downloads normally.
    server.truncated.clear()
    ckpt = _load_checkpoint(f'{url}/{name}', map_location='cpu')
    assert torch.equal(ckpt['state_dict']['w'], torch.arange(4.0))
    assert cache_listing(cache_dir) == [name]


def test_http_error_is_reported_and_not_cached(served):
    root, url, server, cache_dir = served
    with pytest.raises(CheckpointDownloadError,
                       match=r'missing-0123abcd\.pth: download failed '
                       r'\(HTTPError: HTTP Error 404'):
        _load_checkpoint(f'{url}/missing-0123abcd.pth')
    assert cache_listing(cache_dir) == []


def test_http_pickled_callable_is_refused(tmp_path, served):
    root, url, server, cache_dir = served
    target = tmp_path / 'created_by_unpickling'
    torch.save(dict(payload=RunsCode(str(target))), root / 'evil.pth')
    with pytest.raises(UnsafeCheckpointError):
        _load_checkpoint(f'{url}/evil.pth')
    assert not target.exists()


def test_verify_hash_prefix_on_local_files(tmp_path):
    name = save_hash_named(mmengine_style_checkpoint(), tmp_path, 'model')
    verify_hash_prefix(str(tmp_path / name))
    with open(tmp_path / name, 'ab') as f:
        f.write(b'tampered')
    with pytest.raises(CheckpointDownloadError, match='does not start with'):
        verify_hash_prefix(str(tmp_path / name))
    # No hash in the name: nothing to check.
    shutil.copy(tmp_path / name, tmp_path / 'plain.pth')
    verify_hash_prefix(str(tmp_path / 'plain.pth'))


def test_corrupt_cached_copy_is_replaced(served):
    """A hash-named file already in the (shared) hub cache whose SHA-256
    does not match its name is not trusted: it is removed and downloaded
    again; a good cached copy makes no request."""
    root, url, server, cache_dir = served
    good = save_hash_named(mmengine_style_checkpoint(), root, 'model')
    cache_dir.mkdir(parents=True)
    (cache_dir / good).write_bytes(b'written by some other tool')
    ckpt = _load_checkpoint(f'{url}/{good}', map_location='cpu')
    assert torch.equal(ckpt['state_dict']['w'], torch.arange(4.0))
    assert server.requests == [f'/{good}']
    assert (cache_dir / good).read_bytes() == (root / good).read_bytes()
    _load_checkpoint(f'{url}/{good}', map_location='cpu')
    assert server.requests == [f'/{good}']


def test_strip_wrapper_prefix_only_strips_the_leading_module():
    from fcam_mm.utils.checkpoint import strip_wrapper_prefix
    assert strip_wrapper_prefix({'module.backbone.w': 1, 'head.module.b': 2,
                                 'decoder.x': 3}) == {
        'backbone.w': 1, 'head.module.b': 2, 'decoder.x': 3}
