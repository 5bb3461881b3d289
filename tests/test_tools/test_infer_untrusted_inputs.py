"""tools/infer.py on untrusted folders: a decompression-bomb PNG, symlink
loops (files and folders), a broken link, a FIFO, text with an image
extension and a file of unknown extension sit next to good images. Each bad
entry is skipped with one warning naming it, the good images are localized,
the bomb is refused from its header (never read by the decoder) and no walk
or glob runs forever."""
import json
import os
import os.path as osp
import struct
import threading
import zlib

import cv2
import mmcv
import mmengine.fileio
import numpy as np
import pytest

from fcam_mm.apis import ImageLoadError
from fcam_mm.apis import batch_inference
from fcam_mm.datasets import image_inputs
from fcam_mm.datasets.image_inputs import (DEFAULT_MAX_PIXELS,
                                           ImageTooLargeError,
                                           check_image_file, find_images,
                                           list_images)
from tests.test_apis.zoo_helpers import (CONFIG, perturbed_checkpoint,
                                         write_zoo)
from .tool_helpers import load_tool

pytestmark = pytest.mark.skipif(
    not hasattr(os, 'symlink') or not hasattr(os, 'mkfifo'),
    reason='needs POSIX symlinks and FIFOs')

NUM_CLASSES = ['--cfg-options', 'model.head.num_classes=3']
GOOD = {'good_a.png': (40, 50), 'sub/good_b.jpg': (30, 20)}
#: entry -> what its one warning must say
BAD = {
    'bomb.png': 'too large, not decoded',
    'notes.jpg': 'not a readable image',
    'table.xyz': 'not a readable image',
    'loop_a.png': 'symlink loop',
    'loop_b.png': 'symlink loop',
    'broken.png': 'broken symlink',
    'fifo.png': 'not a regular file (a FIFO)',
    'sub/up': 'symlink loop: a link back to',
    'sub/up2': 'symlink loop: a link back to',
}


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return (struct.pack('>I', len(data)) + kind + data +
            struct.pack('>I', zlib.crc32(kind + data) & 0xffffffff))


def write_bomb_png(path, width=30000, height=30000):
    """A valid PNG header declaring ``width x height`` RGB pixels (2.7 GB
    decoded at 30000x30000) followed by a few hundred bytes of data."""
    header = struct.pack('>IIBBBBB', width, height, 8, 2, 0, 0, 0)
    rows = zlib.compress(b'\x00' * (1 + 3 * width) * 2)
    with open(path, 'wb') as f:
        f.write(b'\x89PNG\r\n\x1a\n' + png_chunk(b'IHDR', header) +
                png_chunk(b'IDAT', rows) + png_chunk(b'IEND', b''))


def write_image(path, height, width):
    os.makedirs(osp.dirname(path), exist_ok=True)
    cv2.imwrite(str(path), np.full((height, width, 3), 120, np.uint8))


@pytest.fixture(scope='module')
def checkpoint(tmp_path_factory):
    root = tmp_path_factory.mktemp('zoo')
    _, state = perturbed_checkpoint()
    _, shipped = write_zoo(root, state)
    return str(root / 'checkpoints' / shipped)


@pytest.fixture
def folder(tmp_path):
    """Two good images (one in sub/), a good image linked from outside, and
    every bad entry of ``BAD``."""
    root = tmp_path / 'untrusted'
    for name, (h, w) in GOOD.items():
        write_image(root / name, h, w)
    write_image(tmp_path / 'elsewhere' / 'real.png', 24, 36)
    os.symlink(tmp_path / 'elsewhere' / 'real.png', root / 'outside.png')
    write_bomb_png(root / 'bomb.png')
    (root / 'notes.jpg').write_text('meeting notes, not a JPEG')
    (root / 'table.xyz').write_text('x,y\n1,2\n')
    os.symlink('loop_b.png', root / 'loop_a.png')
    os.symlink('loop_a.png', root / 'loop_b.png')
    os.symlink('missing.png', root / 'broken.png')
    os.mkfifo(root / 'fifo.png')
    os.symlink('..', root / 'sub' / 'up')
    os.symlink('..', root / 'sub' / 'up2')
    return root


def finishes(function, *args, timeout=30, **kwargs):
    """``function(*args, **kwargs)`` in a thread; fails the test if it does
    not return within ``timeout`` s (a walk that follows loops, a FIFO
    opened for reading)."""
    out = {}

    def target():
        try:
            out['value'] = function(*args, **kwargs)
        except BaseException as e:  # re-raised in the test's thread
            out['error'] = e

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(timeout)
    assert not thread.is_alive(), f'{function.__name__} did not return'
    if 'error' in out:
        raise out['error']
    return out['value']


@pytest.fixture
def watched(monkeypatch):
    """Records what the tool logs, the files the loader reads and how many
    images the decoder decodes."""
    seen = dict(logs=[], reads=[], decoded=[])
    real_log = batch_inference.print_log
    real_get = mmengine.fileio.get
    real_decode = mmcv.imfrombytes

    def log(msg, logger=None, level=20):
        seen['logs'].append((level, msg))
        real_log(msg, logger=logger, level=level)

    def get(filepath, *args, **kwargs):
        seen['reads'].append(str(filepath))
        return real_get(filepath, *args, **kwargs)

    def decode(content, *args, **kwargs):
        image = real_decode(content, *args, **kwargs)
        seen['decoded'].append(None if image is None else image.shape)
        return image

    monkeypatch.setattr(batch_inference, 'print_log', log)
    monkeypatch.setattr(mmengine.fileio, 'get', get)
    monkeypatch.setattr(mmcv, 'imfrombytes', decode)
    return seen


def warnings_of(seen):
    return [msg for level, msg in seen['logs'] if level >= 30]


def test_folder_with_bad_entries(checkpoint, folder, tmp_path, watched):
    out_dir = tmp_path / 'out'
    summary = finishes(load_tool('infer.py').main, [
        str(folder), CONFIG, '--checkpoint', checkpoint, '--out-dir',
        str(out_dir), '--recursive', '--batch-size', '2'] + NUM_CLASSES)

    # Predictions for exactly the good images (a link to a file outside
    # the folder is followed), in the JSONL and the overlays.
    good = sorted(list(GOOD) + ['outside.png'])
    with open(out_dir / 'predictions.jsonl') as f:
        records = [json.loads(line) for line in f]
    assert [osp.relpath(r['image'], folder) for r in records] == good
    sizes = dict(GOOD, **{'outside.png': (24, 36)})
    assert [(r['height'], r['width']) for r in records] == \
        [sizes[name] for name in good]
    for name in good:
        assert (out_dir / 'vis' / (osp.splitext(name)[0] + '.png')).is_file()

    # Each bad entry: skipped, and exactly one warning naming it and why.
    assert sorted(osp.relpath(p, folder) for p, _ in summary.skipped) == \
        sorted(BAD)
    warnings = warnings_of(watched)
    assert len(warnings) == len(BAD)
    for name, why in BAD.items():
        mine = [w for w in warnings if f'{folder / name}:' in w]
        assert len(mine) == 1, (name, mine)
        assert why in mine[0], (name, mine[0])
    # The last line counts both, and names the skipped entries.
    last = watched['logs'][-1][1]
    assert last.startswith(f'3 images localized, {len(BAD)} skipped of '
                           f'{3 + len(BAD)} entries from {folder}')
    assert str(folder / 'bomb.png') in last

    # Only the good images were read and decoded: the bomb, the text files
    # and the FIFO were refused from their stat or header.
    assert sorted(osp.relpath(p, folder) for p in watched['reads']) == good
    assert sorted(watched['decoded']) == sorted(
        (h, w, 3) for h, w in sizes.values())


def test_pixel_cap_is_read_from_the_header(folder, monkeypatch):
    # PIL reads the size without decoding: fail any decode to show it.
    from PIL import ImageFile

    def no_decoding(self, *args, **kwargs):
        raise AssertionError('pixels decoded')

    monkeypatch.setattr(ImageFile.ImageFile, 'load', no_decoding)
    image = str(folder / 'good_a.png')  # 50 x 40 = 2000 pixels
    assert check_image_file(image, max_pixels=2000) == (50, 40)
    with pytest.raises(ImageTooLargeError,
                       match=r'good_a\.png: too large, not decoded: its '
                       r'header declares 50x40 = 2,000 pixels, over the cap '
                       r'of 1,999'):
        check_image_file(image, max_pixels=1999)
    # A bomb under PIL's own limit: our cap refuses it by its header ...
    small_bomb = str(folder / 'small_bomb.png')
    write_bomb_png(small_bomb, 9000, 9000)
    assert osp.getsize(small_bomb) < 2000
    with pytest.raises(ImageTooLargeError, match='9000x9000 = 81,000,000 '
                       'pixels, over the cap of 80,000,000'):
        check_image_file(small_bomb, max_pixels=80_000_000)
    assert check_image_file(small_bomb, max_pixels=81_000_000) == \
        (9000, 9000)
    # ... and one over it (30000x30000) is refused whatever the cap.
    for cap in (DEFAULT_MAX_PIXELS, 10**10):
        with pytest.raises(ImageTooLargeError,
                           match=r'bomb\.png: too large, not decoded.*'
                           '900000000 pixels'):
            check_image_file(str(folder / 'bomb.png'), max_pixels=cap)
    # No cap: only the file type is checked (the caller trusts the input).
    assert check_image_file(str(folder / 'bomb.png'), max_pixels=None) \
        is None
    with pytest.raises(ImageLoadError, match='FIFO'):
        finishes(check_image_file, str(folder / 'fifo.png'), None)


def test_file_size_cap(tmp_path):
    """A small image in a huge file is refused unread: the loader would
    read all its bytes into memory."""
    image = tmp_path / 'padded.png'
    write_image(image, 10, 10)
    with open(image, 'ab') as f:
        f.truncate(osp.getsize(image) + image_inputs.METADATA_BYTES + 900)
    with pytest.raises(ImageTooLargeError, match=r'padded\.png: too large, '
                       r'not read: .* bytes, over the 1,049,376 allowed'):
        check_image_file(str(image), max_pixels=100)
    assert check_image_file(str(image), max_pixels=1000) == (10, 10)


def test_max_pixels_option(checkpoint, folder, tmp_path, watched):
    """--max-pixels reaches the loader: 2000 pixels skip good_a (50x40)."""
    tool = load_tool('infer.py')
    summary = finishes(tool.main, [
        str(folder / 'good_a.png'), CONFIG, '--checkpoint', checkpoint,
        '--no-overlay', '--out', str(tmp_path / 'one.json'),
        '--max-pixels', '2e3'] + NUM_CLASSES)
    assert len(summary.records) == 1
    glob = str(folder / 'sub' / '*.jpg')
    summary = finishes(tool.main, [
        str(folder / '*.png'), CONFIG, '--checkpoint', checkpoint,
        '--no-overlay', '--out', str(tmp_path / 'p.json'),
        '--max-pixels', '1999'] + NUM_CLASSES)
    assert [osp.basename(r['image']) for r in summary.records] == [
        'outside.png']
    assert 'good_a.png: too large' in dict(summary.skipped)[
        str(folder / 'good_a.png')]
    assert tool.parse_args([glob, 'name', '--max-pixels', '100_000_000'
                            ]).max_pixels == 10**8
    assert tool.parse_args([glob, 'name']).max_pixels == DEFAULT_MAX_PIXELS
    with pytest.raises(SystemExit):
        tool.parse_args([glob, 'name', '--max-pixels', '-1'])


def test_single_named_bad_file_is_an_error(checkpoint, folder, tmp_path):
    """SOURCE naming one bad file: an error naming it (the caller asked for
    that image), raised without decoding the bomb or opening the FIFO."""
    tool = load_tool('infer.py')
    cases = {'bomb.png': (ImageTooLargeError, 'too large, not decoded'),
             'loop_a.png': (ImageLoadError, 'a symlink loop'),
             'broken.png': (ImageLoadError, 'a broken symlink'),
             'fifo.png': (ImageLoadError, 'not a regular file'),
             'notes.jpg': (ImageLoadError, 'not a readable image')}
    for name, (error, why) in cases.items():
        with pytest.raises(error, match=rf'{name}: {why}'):
            finishes(tool.main, [
                str(folder / name), CONFIG, '--checkpoint', checkpoint,
                '--no-overlay', '--out', str(tmp_path / 'p.jsonl')] +
                NUM_CLASSES)


def test_folder_symlink_loops_end(folder, tmp_path):
    """Each real folder is listed once, so links back to a parent (two of
    them: Python's recursive glob never returns) or to a folder already
    listed are skipped with their reason, and so are links to folders out
    of the tree (a file link out of it is followed: outside.png); without
    --recursive sub-folders are not entered at all."""
    os.mkdir(folder / 'other')
    write_image(folder / 'other' / 'c.png', 8, 8)
    os.symlink('../other', folder / 'sub' / 'alias')
    os.symlink(tmp_path / 'elsewhere', folder / 'sub' / 'away')
    os.symlink('/', folder / 'root')
    found = finishes(list_images, str(folder), recursive=True)
    names = [osp.relpath(p, folder) for p in found.files]
    assert names == ['bomb.png', 'good_a.png', 'notes.jpg', 'other/c.png',
                     'outside.png', 'sub/good_b.jpg', 'table.xyz']
    skipped = {osp.relpath(p, folder): why for p, why in found.skipped}
    assert skipped['sub/up'] == \
        f'a symlink loop: a link back to {folder}, not followed'
    assert skipped['sub/alias'] == ('a link to a folder already listed as '
                                    f'{folder / "other"}, not followed again')
    assert skipped['sub/away'] == (
        f'a link to a folder outside {folder} '
        f'({osp.realpath(tmp_path / "elsewhere")}), not followed')
    assert skipped['root'].startswith('a link to a folder outside')

    found = finishes(list_images, str(folder / '**' / '*.png'),
                     recursive=True)
    assert [osp.relpath(p, folder) for p in found.files] == [
        'bomb.png', 'good_a.png', 'other/c.png', 'outside.png']
    assert sorted(osp.relpath(p, folder) for p, _ in found.skipped) == [
        'broken.png', 'fifo.png', 'loop_a.png', 'loop_b.png', 'root',
        'sub/alias', 'sub/away', 'sub/up', 'sub/up2']
    found = finishes(list_images, str(folder / '**' / 'sub' / '*'),
                     recursive=True)
    assert [osp.relpath(p, folder) for p in found.files] == [
        'sub/good_b.jpg']

    found = finishes(list_images, str(folder))
    assert [osp.relpath(p, folder) for p in found.files] == [
        'bomb.png', 'good_a.png', 'notes.jpg', 'outside.png', 'table.xyz']
    assert not any(p.startswith(str(folder / 'sub')) for p, _ in
                   found.skipped)


def test_find_images_warns_once_per_skipped_entry(folder, monkeypatch):
    logged = []
    monkeypatch.setattr(image_inputs, 'print_log',
                        lambda msg, **kwargs: logged.append(msg))
    files, listing = finishes(find_images, str(folder))
    assert listing and len(files) == 5
    assert sorted(logged) == sorted(
        f'skipped {folder / name}: ' + why for name, why in [
            ('broken.png', "a broken symlink (to 'missing.png', which does "
             'not resolve)'),
            ('fifo.png', 'not a regular file (a FIFO)'),
            ('loop_a.png', 'a symlink loop (it never resolves to a file)'),
            ('loop_b.png', 'a symlink loop (it never resolves to a file)')])
