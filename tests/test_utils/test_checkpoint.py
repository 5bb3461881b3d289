"""Checkpoints load with weights_only=True and the mmengine allow-list."""
import functools
import hashlib
import http.server
import os
import os.path as osp
import shutil
import threading

import numpy as np
import pytest
import torch
from mmengine.logging import HistoryBuffer, MessageHub
from mmengine.runner.checkpoint import _load_checkpoint, save_checkpoint

from fcam_mm.utils import UnsafeCheckpointError


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


class _QuietHandler(http.server.SimpleHTTPRequestHandler):

    def log_message(self, *args):
        pass


@pytest.fixture
def loopback_server(tmp_path):
    root = tmp_path / 'served'
    root.mkdir()
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield root, f'http://127.0.0.1:{server.server_address[1]}'
    server.shutdown()
    server.server_close()


def test_http_checkpoint_is_downloaded_verified_and_cached(
        tmp_path, loopback_server, monkeypatch):
    root, url = loopback_server
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'torch_home'))
    plain = str(tmp_path / 'plain.pth')
    save_checkpoint(mmengine_style_checkpoint(), plain)
    digest = hashlib.sha256(open(plain, 'rb').read()).hexdigest()
    good = f'model-{digest[:8]}.pth'
    shutil.copy(plain, root / good)
    ckpt = _load_checkpoint(f'{url}/{good}', map_location='cpu')
    assert torch.equal(ckpt['state_dict']['w'], torch.arange(4.0))
    cached = tmp_path / 'torch_home' / 'hub' / 'checkpoints' / good
    assert cached.is_file()
    # A second load is served from the cache, not the server.
    (root / good).unlink()
    _load_checkpoint(f'{url}/{good}', map_location='cpu')

    wrong = 'model-00000000.pth'
    shutil.copy(plain, root / wrong)
    with pytest.raises(RuntimeError, match='invalid hash value'):
        _load_checkpoint(f'{url}/{wrong}')
    assert not osp.exists(
        tmp_path / 'torch_home' / 'hub' / 'checkpoints' / wrong)


def test_http_pickled_callable_is_refused(tmp_path, loopback_server,
                                          monkeypatch):
    root, url = loopback_server
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'torch_home'))
    target = tmp_path / 'created_by_unpickling'
    torch.save(dict(payload=RunsCode(str(target))), root / 'evil.pth')
    with pytest.raises(UnsafeCheckpointError):
        _load_checkpoint(f'{url}/evil.pth')
    assert not target.exists()
