"""A real HTTP server on 127.0.0.1 in a thread, serving a folder, that
records the paths it is asked for and can cut chosen files short."""
import functools
import hashlib
import http.server
import os
import threading
from contextlib import contextmanager

from mmengine.runner.checkpoint import save_checkpoint


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
