"""Files that go bad after the dataset was built (so the build-time checks
passed): a truncated JPEG or PNG, an image of another size than
image_sizes.txt, a mask PNG of the wrong size, a deleted file, and a label
the model has no class for. Each error names the file and the metadata
line; ``skip_bad_samples=True`` (training only, never the default) replaces
such a sample, logs it, and BadSampleReportHook counts the skips per epoch,
with or without DataLoader workers."""
import glob
import io
import logging
import os
import os.path as osp
import re
from types import SimpleNamespace

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.logging import MMLogger
from PIL import Image
from torch.utils.data import DataLoader

from fcam_mm.datasets.bad_samples import DataFileError, encoded_image_problem
from fcam_mm.engine.hooks import BadSampleReportHook
from fcam_mm.engine.hooks.bad_sample_report_hook import skipped_in_batch
from fcam_mm.registry import DATASETS, MODELS
from ..test_tools.tool_helpers import (REPO, load_tool, make_small_synthetic,
                                       options, runner_log)
from .wsol_tree import write_lines

TRAIN_PIPELINE = [  # what the configs train on: no LoadWSOLAnnotations
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(16, 16), keep_ratio=False),
    dict(type='PackWSOLInputs'),
]
MASK_PIPELINE = [  # the test pipeline (and the FSL baseline's training one)
    dict(type='LoadImageFromFile'),
    dict(type='LoadWSOLAnnotations'),
    dict(type='Resize', scale=(16, 16), keep_ratio=False),
    dict(type='PackWSOLInputs'),
]

# image id, label, width, height; image 2 has two mask instances
IMAGES = [('c0/img0.jpg', 0, 40, 30), ('c0/img1.jpg', 0, 36, 24),
          ('c1/img2.jpg', 1, 32, 32), ('c1/img3.jpg', 1, 24, 40),
          ('c2/img4.jpg', 2, 30, 20), ('c2/img5.jpg', 2, 28, 28)]
N = len(IMAGES)


def jpeg_bytes(height, width, seed=0, **params):
    rng = np.random.default_rng(seed)
    image = cv2.GaussianBlur(
        rng.integers(0, 256, (height, width, 3), np.uint8), (5, 5), 2)
    flags = []
    for key, value in params.items():
        flags += [getattr(cv2, f'IMWRITE_JPEG_{key.upper()}'), value]
    return cv2.imencode('.jpg', image, flags)[1].tobytes()


def write_bytes(path, data):
    os.makedirs(osp.dirname(path), exist_ok=True)
    with open(path, 'wb') as f:
        f.write(data)


def write_mask(path, height, width):
    os.makedirs(osp.dirname(path), exist_ok=True)
    mask = np.zeros((height, width), np.uint8)
    mask[height // 4:height // 2, width // 4:width // 2] = 255
    assert cv2.imwrite(path, mask)


def make_tree(root):
    """A split with JPEG images and masks. image_sizes.txt lists the images
    in reverse order, so its line numbers are not the sample indices."""
    root = str(root)
    ids, labels, sizes, masks = [], [], [], []
    for i, (image_id, label, w, h) in enumerate(IMAGES):
        write_bytes(osp.join(root, 'images', image_id),
                    jpeg_bytes(h, w, seed=i))
        ids.append(image_id)
        labels.append(f'{image_id},{label}')
        sizes.insert(0, f'{image_id},{w},{h}')
        stem = image_id[:-4]
        for j in range(2 if i == 2 else 1):
            write_mask(osp.join(root, 'masks', f'{stem}_m{j}.png'), h, w)
            masks.append(f'{image_id},{stem}_m{j}.png,')
    split = osp.join(root, 'metadata', 'train')
    write_lines(osp.join(split, 'image_ids.txt'), ids)
    write_lines(osp.join(split, 'class_labels.txt'), labels)
    write_lines(osp.join(split, 'image_sizes.txt'), sizes)
    write_lines(osp.join(split, 'localization_mask.txt'), masks)
    return root


def build(root, pipeline=TRAIN_PIPELINE, test_mode=False, **kwargs):
    return DATASETS.build(
        dict(
            type='WSOLDataset',
            data_root=str(root),
            ann_file='metadata/train',
            box_file=None,
            mask_file='localization_mask.txt',
            data_prefix=dict(img_path='images', mask_path='masks'),
            pipeline=pipeline,
            test_mode=test_mode,
            **kwargs))


def meta(root, name, line):
    return f"{osp.join(str(root), 'metadata', 'train', name)}:{line}"


def image_path(root, index):
    return osp.join(str(root), 'images', IMAGES[index][0])


# -- the faults: corrupt a built tree, return (index, file, metadata line) --
def truncate_jpeg(root):
    path = image_path(root, 3)
    with open(path, 'rb') as f:
        data = f.read()
    write_bytes(path, data[:len(data) // 2])
    return 3, path, meta(root, 'image_ids.txt', 4), 'truncated JPEG'


def truncate_png(root):
    # a PNG under the .jpg name: decoders go by the content
    path = image_path(root, 1)
    data = cv2.imencode('.png', np.zeros((24, 36, 3), np.uint8))[1]
    write_bytes(path, data.tobytes()[:-20])
    return 1, path, meta(root, 'image_ids.txt', 2), 'truncated PNG'


def resize_image(root):
    path = image_path(root, 4)  # 30x20 in image_sizes.txt line N - 4
    write_bytes(path, jpeg_bytes(20, 31))
    return (4, path, meta(root, 'image_sizes.txt', N - 4),
            'decoded image is 31x20 but the metadata says 30x20')


def delete_image(root):
    path = image_path(root, 0)
    os.remove(path)
    return 0, path, meta(root, 'image_ids.txt', 1), 'no such file'


def resize_mask(root):
    # image 2's second instance PNG, on line 4 of localization_mask.txt
    path = osp.join(str(root), 'masks', 'c1', 'img2_m1.png')
    write_mask(path, 10, 10)
    return (2, path, meta(root, 'localization_mask.txt', 4),
            'is 10x10, its image')


IMAGE_FAULTS = [truncate_jpeg, truncate_png, resize_image, delete_image]
ALL_FAULTS = IMAGE_FAULTS + [resize_mask]


# -- the byte-level completeness check ----------------------------------------
@pytest.mark.parametrize('params', [
    dict(quality=95), dict(progressive=1), dict(optimize=1),
    dict(rst_interval=2)
])
def test_complete_jpegs_pass_and_every_truncation_is_found(params):
    data = jpeg_bytes(60, 80, **params)
    assert encoded_image_problem(data) is None
    assert encoded_image_problem(data + b'\0' * 64) is None  # trailing bytes
    for end in (3, 20, 200, len(data) // 2, len(data) - 2, len(data) - 1):
        assert 'truncated JPEG' in encoded_image_problem(data[:end])


def test_exif_thumbnail_end_marker_does_not_hide_a_truncation():
    # The EXIF thumbnail (APP1, before the image's scans) holds its own
    # end-of-image marker; the check walks past it by segment lengths.
    image = Image.fromarray(np.full((64, 80, 3), 120, np.uint8))
    thumb = io.BytesIO()
    image.resize((16, 12)).save(thumb, 'JPEG')
    exif = Image.Exif()
    exif[0x0112] = 1
    out = io.BytesIO()
    image.save(out, 'JPEG', exif=exif, progressive=True)
    data = out.getvalue()
    assert encoded_image_problem(data) is None
    assert 'truncated' in encoded_image_problem(data[:len(data) - 10])


def test_png_and_other_formats():
    png = cv2.imencode('.png', np.zeros((8, 8), np.uint8))[1].tobytes()
    assert encoded_image_problem(png) is None
    assert 'truncated PNG' in encoded_image_problem(png[:-12])
    assert encoded_image_problem(b'BM not checked here') is None


def test_truncated_jpeg_is_an_error_even_if_the_decoder_decodes_it(
        tmp_path, monkeypatch):
    # Some OpenCV builds decode a truncated JPEG (grey bottom rows, a
    # printed warning only); the loader judges the bytes before decoding.
    import mmcv
    dataset = build(make_tree(tmp_path))
    index, path, line, _ = truncate_jpeg(tmp_path)
    monkeypatch.setattr(mmcv, 'imfrombytes',
                        lambda *a, **k: np.zeros((40, 24, 3), np.uint8))
    with pytest.raises(DataFileError, match='truncated JPEG'):
        dataset[index]


# -- errors name the file and the metadata line -----------------------------
@pytest.mark.parametrize('fault', ALL_FAULTS, ids=lambda f: f.__name__)
@pytest.mark.parametrize('mode', ['train', 'test'])
def test_error_names_file_and_metadata_line(tmp_path, fault, mode):
    pipeline = TRAIN_PIPELINE
    if fault is resize_mask or mode == 'test':
        pipeline = MASK_PIPELINE
    dataset = build(make_tree(tmp_path), pipeline, test_mode=mode == 'test')
    for i in range(N):  # clean: every sample loads
        dataset[i]
    index, path, line, what = fault(tmp_path)
    with pytest.raises(DataFileError) as info:
        dataset[index]
    message = str(info.value)
    assert path in message and line in message and what in message
    assert info.value.path == path
    assert isinstance(info.value, ValueError)  # what the loaders raised


def test_metadata_where_of_a_sample(tmp_path):
    dataset = build(make_tree(tmp_path))
    where = dataset.get_data_info(2)['metadata_where']
    assert where == dict(
        image=meta(tmp_path, 'image_ids.txt', 3),
        label=meta(tmp_path, 'class_labels.txt', 3),
        size=meta(tmp_path, 'image_sizes.txt', N - 2),
        masks=[meta(tmp_path, 'localization_mask.txt', 3),
               meta(tmp_path, 'localization_mask.txt', 4)])
    sample = dataset[2]['data_samples']
    assert sample.gt_label_where == meta(tmp_path, 'class_labels.txt', 3)


@pytest.mark.parametrize('workers', [0, 2])
def test_dataloader_reraises_with_the_message(tmp_path, workers):
    dataset = build(make_tree(tmp_path))
    index, path, line, _ = truncate_jpeg(tmp_path)
    loader = DataLoader(dataset, batch_size=2, num_workers=workers,
                        collate_fn=pseudo_collate)
    with pytest.raises(DataFileError) as info:
        for _ in loader:
            pass
    assert path in str(info.value) and line in str(info.value)


# -- skip_bad_samples ---------------------------------------------------------
def test_skip_is_off_by_default_and_never_in_test_mode(tmp_path):
    make_tree(tmp_path)
    assert build(tmp_path).skip_bad_samples is False
    with pytest.raises(ValueError, match='evaluation never skips'):
        build(tmp_path, MASK_PIPELINE, test_mode=True, skip_bad_samples=True)
    for cfg in glob.glob(osp.join(REPO, 'configs', '_base_', 'datasets',
                                  '*.py')):
        with open(cfg) as f:
            assert 'skip_bad_samples' not in f.read(), cfg


class Records(logging.Handler):

    def __init__(self):
        super().__init__()
        self.messages = []

    def emit(self, record):
        self.messages.append((record.levelno, record.getMessage()))


@pytest.fixture
def logged():
    logger = MMLogger.get_current_instance()
    handler = Records()
    logger.addHandler(handler)
    yield handler.messages
    logger.removeHandler(handler)


def delivered(loader):
    paths, skipped = [], []
    for batch in loader:
        paths += [s.img_path for s in batch['data_samples']]
        skipped += skipped_in_batch(batch)
    return paths, skipped


@pytest.mark.parametrize('fault', ALL_FAULTS, ids=lambda f: f.__name__)
def test_skip_replaces_and_logs_the_bad_sample(tmp_path, fault, logged):
    pipeline = MASK_PIPELINE if fault is resize_mask else TRAIN_PIPELINE
    dataset = build(make_tree(tmp_path), pipeline, skip_bad_samples=True)
    index, path, line, what = fault(tmp_path)
    np.random.seed(0)
    paths, skipped = delivered(
        DataLoader(dataset, batch_size=4, collate_fn=pseudo_collate))
    bad_image = image_path(tmp_path, index)
    assert len(paths) == N and bad_image not in paths
    # one skip per draw of the bad index: once in order, plus any random
    # replacement that drew it again
    assert len(skipped) >= 1
    assert all(path in s and line in s and what in s for s in skipped)
    warnings = [m for level, m in logged if level == logging.WARNING
                and 'skip_bad_samples' in m]
    assert len(warnings) == len(skipped)
    assert all(path in m and line in m for m in warnings)


def test_skip_replacement_is_seeded(tmp_path):
    dataset = build(make_tree(tmp_path), skip_bad_samples=True)
    truncate_jpeg(tmp_path)
    runs = []
    for _ in range(2):
        np.random.seed(7)
        runs.append([dataset[i]['data_samples'].img_path for i in range(N)])
    assert runs[0] == runs[1]


def test_skip_does_not_hide_other_errors(tmp_path):
    # A wrong pipeline is a bug, not a broken file: raised as usual.
    dataset = build(make_tree(tmp_path),
                    [dict(type='LoadImageFromFile'),
                     dict(type='PackWSOLInputs'),
                     dict(type='PackWSOLInputs')],
                    skip_bad_samples=True)
    with pytest.raises(KeyError):
        dataset[0]


def test_skip_gives_up_when_nothing_loads(tmp_path):
    dataset = build(make_tree(tmp_path), skip_bad_samples=True,
                    max_refetch=5)
    for i in range(N):
        os.remove(image_path(tmp_path, i))
    with pytest.raises(DataFileError, match='no loadable sample in 6 draws'):
        dataset[0]


def fake_runner(epoch, messages):
    logger = logging.getLogger('test_bad_samples.fake_runner')
    logger.log = lambda level, msg: messages.append((level, msg))
    return SimpleNamespace(epoch=epoch, logger=logger)


def test_report_hook_counts_skips_made_in_worker_processes(tmp_path):
    dataset = build(make_tree(tmp_path), skip_bad_samples=True)
    index, path, line, _ = truncate_jpeg(tmp_path)
    resize_image(tmp_path)
    loader = DataLoader(dataset, batch_size=2, num_workers=2,
                        collate_fn=pseudo_collate)
    hook = BadSampleReportHook()
    messages = []
    for epoch in range(2):
        runner = fake_runner(epoch, messages)
        hook.before_train_epoch(runner)
        paths = []
        for i, batch in enumerate(loader):
            paths += [s.img_path for s in batch['data_samples']]
            hook.after_train_iter(runner, i, batch)
        hook.after_train_epoch(runner)
        assert len(paths) == N and path not in paths
        # both broken files were met in order; a random replacement may
        # have drawn one of them again
        assert hook.last_epoch_count >= 2
        level, text = messages[-1]
        assert level == logging.WARNING
        assert (f'{hook.last_epoch_count} broken training sample(s) skipped '
                f'in epoch {epoch + 1}') in text
        assert path in text and line in text
        assert meta(tmp_path, 'image_sizes.txt', N - 4) in text
    # an epoch without skips logs nothing
    runner = fake_runner(2, messages)
    hook.before_train_epoch(runner)
    hook.after_train_epoch(runner)
    assert hook.last_epoch_count == 0 and len(messages) == 2


def test_report_hook_is_a_default_hook():
    cfg = Config.fromfile(
        osp.join(REPO, 'configs', '_base_', 'default_runtime.py'))
    assert cfg.default_hooks.bad_sample_report.type == 'BadSampleReportHook'


# -- a label the model has no class for ---------------------------------------
def tiny_model(num_classes):
    cfg = Config.fromfile(
        osp.join(REPO, 'configs', 'wsol', 'cam_tinyresnet_synthetic.py'))
    cfg.model.head.num_classes = num_classes
    return MODELS.build(cfg.model)


def test_label_outside_the_models_classes_names_images_and_lines(tmp_path):
    dataset = build(make_tree(tmp_path))
    batch = pseudo_collate([dataset[i] for i in range(N)])
    model = tiny_model(2)  # the data has labels 0, 1, 2
    data = model.data_preprocessor(batch, training=True)
    with pytest.raises(ValueError) as info:
        model(**data, mode='loss')
    message = str(info.value)
    assert '2 label(s) outside [0, 2)' in message
    assert 'model.head.num_classes=2' in message
    for i in (4, 5):
        assert (f'{image_path(tmp_path, i)}: label 2 '
                f"({meta(tmp_path, 'class_labels.txt', i + 1)})") in message
    assert image_path(tmp_path, 3) not in message
    # GT-known prediction indexes the CAM by the label too
    with pytest.raises(ValueError, match='outside'):
        model(**model.data_preprocessor(batch), mode='predict')
    # enough classes: trains
    losses = tiny_model(3)(**data, mode='loss')
    assert torch.isfinite(losses['loss_cls'])


# -- end to end: tools/train.py -----------------------------------------------
CONFIG = osp.join(REPO, 'configs', 'wsol', 'cam_tinyresnet_synthetic.py')


@pytest.fixture(scope='module')
def synthetic(tmp_path_factory):
    return make_small_synthetic(str(tmp_path_factory.mktemp('synthetic')))


def broken_copy(synthetic, tmp_path):
    """A copy of the synthetic data with training image 4 truncated."""
    import shutil
    root = str(tmp_path / 'data')
    shutil.copytree(synthetic, root)
    split = osp.join(root, 'metadata', 'train')
    with open(osp.join(split, 'image_ids.txt')) as f:
        image_id = f.read().splitlines()[4]
    path = osp.join(root, 'images', image_id)
    with open(path, 'rb') as f:
        data = f.read()
    write_bytes(path, data[:len(data) // 2])
    return root, path, f"{osp.join(split, 'image_ids.txt')}:5"


def test_train_tool_stops_at_a_broken_image_by_default(synthetic, tmp_path):
    root, path, line = broken_copy(synthetic, tmp_path)
    with pytest.raises(DataFileError) as info:
        load_tool('train.py').main(
            [CONFIG, '--work-dir', str(tmp_path / 'work')] +
            options(root, 1))
    assert path in str(info.value) and line in str(info.value)


def test_train_tool_skips_with_the_option_and_logs_the_count(
        synthetic, tmp_path):
    root, path, line = broken_copy(synthetic, tmp_path)
    work_dir = str(tmp_path / 'work')
    runner = load_tool('train.py').main(
        [CONFIG, '--work-dir', work_dir] + options(
            root, 1, 'train_dataloader.dataset.skip_bad_samples=True',
            'train_dataloader.num_workers=2'))
    assert runner.epoch == 1
    log = runner_log(runner)
    # the warning of the worker process that met the file ...
    assert re.search(r'skip_bad_samples: skipped training sample \d+: ' +
                     re.escape(path) + r': truncated JPEG.*' +
                     re.escape(line), log)
    # ... and the count of the epoch, from the main process
    count = re.search(r'skip_bad_samples: (\d+) broken training sample\(s\) '
                      r'skipped in epoch 1', log)
    assert count and int(count.group(1)) >= 1


def test_train_tool_label_outside_the_model(synthetic, tmp_path):
    with pytest.raises(ValueError, match=r'outside \[0, 2\).*'
                       r'model\.head\.num_classes=2.*class_labels\.txt:\d+'):
        load_tool('train.py').main(
            [CONFIG, '--work-dir', str(tmp_path / 'work')] +
            options(synthetic, 1, 'model.head.num_classes=2'))
