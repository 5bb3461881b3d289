"""Model-zoo test helpers: a real HTTP server on 127.0.0.1 in a thread
(serving a folder, recording the paths asked for, cutting chosen files
short), hash-named checkpoints and a small model index."""
import functools
import hashlib
import http.server
import os
import threading
from contextlib import contextmanager

import os.path as osp

import torch
import yaml
from mmengine.runner.checkpoint import save_checkpoint

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = osp.join(REPO, 'configs', 'fcam', 'tinyresnet_synthetic.py')


class CheckpointHandler(http.server.SimpleHTTPRequestHandler):
    """Serves ``directory``; a file whose name is in ``server.truncated`` is
    announced with its full ``Content-Length`` but only half of it is sent
    before the connection closes."""

    def log_message(self, *args):
        pass

    def do_GET(self):
        self.server.requests.append(self.path)
        name = self.path.lstrip('/')
        if name not in self.server.truncated:
            return super().do_GET()
        with open(os.path.join(self.directory, name), 'rb') as f:
            data = f.read()
        self.send_response(200)
        self.send_header('Content-Type', 'application/octet-stream')
        self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        self.wfile.write(data[:len(data) // 2])
        self.wfile.flush()
        self.close_connection = True


@contextmanager
def serve_folder(root):
    """Yield ``(server, base_url)``; ``server.requests`` lists request
    paths, ``server.truncated`` is a set of file names to cut short."""
    handler = functools.partial(CheckpointHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
    server.requests = []
    server.truncated = set()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server, f'http://127.0.0.1:{server.server_address[1]}'
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def sha256_prefix(path, length=8):
    with open(path, 'rb') as f:
        return hashlib.sha256(f.read()).hexdigest()[:length]


def save_hash_named(checkpoint: dict, folder, stem: str) -> str:
    """Save ``checkpoint`` as ``<folder>/<stem>-<sha256[:8]>.pth`` (the
    publishing convention) and return the file name."""
    tmp = os.path.join(str(folder), f'{stem}.tmp')
    save_checkpoint(checkpoint, tmp)
    name = f'{stem}-{sha256_prefix(tmp)}.pth'
    os.replace(tmp, os.path.join(str(folder), name))
    return name


def perturbed_checkpoint():
    """A 3-class F-CAM model (CONFIG) with perturbed weights: its state dict
    and a checkpoint dict with class names, as the Runner saves them."""
    from fcam_mm.apis import init_localizer
    model = init_localizer(CONFIG, cfg_options={'model.head.num_classes': 3})
    torch.manual_seed(0)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.01)
    state = {k: v.clone() for k, v in model.state_dict().items()}
    return state, dict(state_dict=state,
                       meta=dict(dataset_meta=dict(classes=('a', 'b', 'c'))))


def write_zoo(root, checkpoint, weights_url=None):
    """A model index in ``root`` in the repository's layout: the root file
    imports ``configs/demo/metafile.yml``; one model ships its weights as a
    file, one has a URL, one none."""
    (root / 'configs' / 'demo').mkdir(parents=True)
    (root / 'checkpoints').mkdir()
    (root / 'configs' / 'demo' / 'tiny3.py').write_text(
        f'_base_ = {CONFIG!r}\nmodel = dict(head=dict(num_classes=3))\n')
    shipped = save_hash_named(checkpoint, root / 'checkpoints', 'demo_local')
    models = [
        dict(Name='demo_local', Config='configs/demo/tiny3.py',
             Weights=f'checkpoints/{shipped}'),
        dict(Name='demo_null', Config='configs/demo/tiny3.py', Weights=None),
    ]
    if weights_url:
        models.append(dict(Name='demo_url', Config='configs/demo/tiny3.py',
                           Weights=weights_url))
    for item in models:
        item['In Collection'] = 'Demo'
    (root / 'configs' / 'demo' / 'metafile.yml').write_text(
        yaml.safe_dump(dict(Collections=[dict(Name='Demo')], Models=models),
                       sort_keys=False))
    (root / 'model-index.yml').write_text(
        yaml.safe_dump(dict(Import=['configs/demo/metafile.yml'])))
    return str(root / 'model-index.yml'), shipped
