"""tools/infer.py: images, folders and globs to overlays + JSONL (masks as
COCO RLE), bad files skipped and counted; model names through the tools."""
import json
import os.path as osp

import cv2
import numpy as np
import pytest
from pycocotools import mask as mask_utils

from fcam_mm.apis import (ImageLoadError, UnknownModelError,
                          inference_localizer, init_localizer)
from fcam_mm.apis.batch_inference import find_images, overlay_names
from tests.test_apis.zoo_helpers import CONFIG, perturbed_checkpoint, \
    write_zoo
from .tool_helpers import load_tool, options

SIZES = {'a.png': (90, 120), 'c.png': (64, 64), 'sub/b.jpg': (50, 80)}


@pytest.fixture(scope='module')
def zoo(tmp_path_factory):
    """A model index whose ``demo_local`` ships a 3-class checkpoint, and
    that checkpoint's path."""
    root = tmp_path_factory.mktemp('zoo')
    _, checkpoint = perturbed_checkpoint()
    index, shipped = write_zoo(root, checkpoint)
    return index, str(root / 'checkpoints' / shipped)


@pytest.fixture
def images(tmp_path):
    """Three images (one in a sub-folder), a text file, a corrupt PNG and a
    hidden file."""
    folder = tmp_path / 'images'
    (folder / 'sub').mkdir(parents=True)
    rng = np.random.default_rng(0)
    for name, (h, w) in SIZES.items():
        image = rng.integers(0, 256, (h, w, 3), np.uint8)
        image[h // 4:h // 2, w // 4:w // 2] = (30, 220, 60)
        cv2.imwrite(str(folder / name), image)
    (folder / 'notes.txt').write_text('not an image')
    (folder / 'bad.png').write_bytes(b'\x89PNG\r\n\x1a\n truncated')
    (folder / '.hidden.png').write_bytes(b'')
    return folder


def read_jsonl(path):
    with open(path) as f:
        return [json.loads(line) for line in f]


def test_folder_to_jsonl_and_overlays(zoo, images, tmp_path):
    index, ckpt = zoo
    out_dir = tmp_path / 'out'
    summary = load_tool('infer.py').main([
        str(images), CONFIG, '--checkpoint', ckpt, '--out-dir',
        str(out_dir), '--batch-size', '2', '--recursive', '--cfg-options',
        'model.head.num_classes=3'
    ])
    # Non-images are reported and counted, never silently dropped.
    assert sorted(osp.basename(p) for p, _ in summary.skipped) == [
        'bad.png', 'notes.txt']
    assert all('not a readable image' in why for _, why in summary.skipped)

    records = read_jsonl(out_dir / 'predictions.jsonl')
    assert [osp.relpath(r['image'], images) for r in records] == [
        'a.png', 'c.png', 'sub/b.jpg']
    # Each record is what the API gives for that image alone.
    model = init_localizer(CONFIG, ckpt,
                           cfg_options={'model.head.num_classes': 3})
    for record in records:
        rel = osp.relpath(record['image'], images)
        expected = inference_localizer(model, record['image'])
        assert (record['height'], record['width']) == SIZES[rel]
        assert record['box'] == expected['box'].tolist()
        assert record['pred_label'] == expected['pred_label']
        assert record['pred_class'] == 'abc'[expected['pred_label']]
        assert record['pred_score'] == pytest.approx(expected['pred_score'],
                                                     abs=1e-6)
        assert [t['label'] for t in record['topk']] == \
            expected['topk_labels']
        assert [t['class'] for t in record['topk']] == \
            ['abc'[i] for i in expected['topk_labels']]
        assert record['map'] == 'fcam' and record['threshold'] == 0.5
        rle = dict(record['mask'], counts=record['mask']['counts'].encode())
        np.testing.assert_array_equal(
            mask_utils.decode(rle).astype(bool), expected['mask'])
        overlay = cv2.imread(
            str(out_dir / 'vis' / (osp.splitext(rel)[0] + '.png')))
        assert overlay is not None
        assert overlay.shape[0] >= SIZES[rel][0]
        assert overlay.shape[1] >= SIZES[rel][1]


def test_glob_json_and_batch_size_invariance(zoo, images, tmp_path):
    index, ckpt = zoo
    tool = load_tool('infer.py')
    outs = []
    for batch in (1, 3):
        out = str(tmp_path / f'pred{batch}.json')
        summary = tool.main([
            str(images / '*.png'), CONFIG, '--checkpoint', ckpt, '--out',
            out, '--no-overlay', '--batch-size', str(batch), '--threshold',
            '0.3', '--cfg-options', 'model.head.num_classes=3'
        ])
        assert [osp.basename(p) for p, _ in summary.skipped] == ['bad.png']
        with open(out) as f:
            outs.append(json.load(f))
    assert [osp.basename(r['image']) for r in outs[0]] == ['a.png', 'c.png']
    for one, three in zip(*outs):
        assert one['box'] == three['box'] and one['mask'] == three['mask']
        assert one['threshold'] == 0.3
    assert not (tmp_path / 'infer_out').exists()


def test_model_name_and_single_image(zoo, images, tmp_path, monkeypatch):
    index, ckpt = zoo
    monkeypatch.setenv('FCAM_MM_MODEL_INDEX', index)
    tool = load_tool('infer.py')
    summary = tool.main([str(images / 'a.png'), 'demo_local', '--out-dir',
                         str(tmp_path / 'out')])
    assert len(summary.records) == 1 and not summary.skipped
    assert (tmp_path / 'out' / 'vis' / 'a.png').is_file()
    # An explicit file that is not an image is an error, not a skip.
    with pytest.raises(ImageLoadError, match=r'notes\.txt: not a readable'):
        tool.main([str(images / 'notes.txt'), 'demo_local', '--out-dir',
                   str(tmp_path / 'out')])
    with pytest.raises(UnknownModelError, match='close names: demo_local'):
        tool.main([str(images / 'a.png'), 'demo_locl'])
    with pytest.raises(FileNotFoundError, match='no such image, folder'):
        tool.main([str(images / 'nothing.png'), 'demo_local'])


def test_find_images_and_overlay_names(images):
    files, listing = find_images(str(images))
    assert listing and [osp.basename(f) for f in files] == [
        'a.png', 'bad.png', 'c.png', 'notes.txt']
    files, _ = find_images(str(images), recursive=True)
    assert len(files) == 5
    assert overlay_names(files) == [
        'a.png', 'bad.png', 'c.png', 'notes.png', 'sub/b.png']
    assert find_images(str(images / 'a.png')) == ([str(images / 'a.png')],
                                                  False)


def test_tools_test_accepts_a_model_name(zoo, data_root, tmp_path,
                                          monkeypatch):
    """tools/test.py CONFIG NAME loads the named model's shipped file
    (load_from=NAME); the metrics equal those of the same file by path."""
    index, ckpt = zoo
    monkeypatch.setenv('FCAM_MM_MODEL_INDEX', index)
    from fcam_mm.utils import checkpoint as checkpoint_module
    loaded = []
    real_load = checkpoint_module.safe_torch_load

    def recording_load(f, map_location=None):
        loaded.append(f)
        return real_load(f, map_location=map_location)

    monkeypatch.setattr(checkpoint_module, 'safe_torch_load', recording_load)
    test = load_tool('test.py')
    by_name = test.main([
        CONFIG, 'demo_local', '--work-dir', str(tmp_path / 'a')
    ] + options(data_root))
    assert loaded == [ckpt]
    by_path = test.main([CONFIG, ckpt, '--work-dir', str(tmp_path / 'b')] +
                        options(data_root))
    assert by_name == by_path
    assert 'fcam/MaxBoxAcc' in by_name


def test_config_without_checkpoint_is_refused(images, capsys):
    with pytest.raises(SystemExit):
        load_tool('infer.py').main([str(images), CONFIG])
    assert '--checkpoint is needed' in capsys.readouterr().err
