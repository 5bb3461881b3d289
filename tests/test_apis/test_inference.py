import os.path as osp

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.runner.checkpoint import save_checkpoint

from fcam_mm.apis import (CheckpointMismatchError, ImageLoadError,
                          inference_localizer, init_localizer)

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = osp.join(REPO, 'configs', 'fcam', 'tinyresnet_synthetic.py')
STAGE1_CONFIG = osp.join(REPO, 'configs', 'wsol',
                         'cam_tinyresnet_synthetic.py')


@pytest.fixture(scope='module')
def checkpoint(tmp_path_factory):
    """A checkpoint of a randomly initialised 3-class F-CAM model."""
    path = str(tmp_path_factory.mktemp('ckpt') / 'fcam.pth')
    model = init_localizer(CONFIG, cfg_options={'model.head.num_classes': 3})
    torch.manual_seed(0)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.01)
    save_checkpoint(
        dict(state_dict=model.state_dict(),
             meta=dict(dataset_meta=dict(classes=('a', 'b', 'c')))), path)
    return path, model.state_dict()


def image_file(tmp_path, height=90, width=120):
    rng = np.random.default_rng(1)
    image = rng.integers(0, 256, (height, width, 3), np.uint8)
    image[20:60, 30:90] = (40, 200, 90)
    path = str(tmp_path / 'img.png')
    cv2.imwrite(path, image)
    return path, image


def largest_box_reference(score_map, tau):
    """The protocol's box, computed here directly with OpenCV."""
    q = (score_map * 255).astype(np.uint8)
    fg = (q > int(tau * q.max())).astype(np.uint8)
    contours = cv2.findContours(fg, cv2.RETR_TREE,
                                cv2.CHAIN_APPROX_SIMPLE)[-2]
    if not contours:
        return [0, 0, 0, 0]
    x, y, w, h = cv2.boundingRect(max(contours, key=cv2.contourArea))
    height, width = score_map.shape
    return [x, y, min(x + w, width - 1), min(y + h, height - 1)]


def test_init_loads_weights_and_classes(checkpoint):
    path, state = checkpoint
    model = init_localizer(CONFIG, path,
                           cfg_options={'model.head.num_classes': 3})
    assert not model.training
    assert model.dataset_meta['classes'] == ('a', 'b', 'c')
    for key, value in model.state_dict().items():
        assert torch.equal(value, state[key]), key


def test_inference_on_path_and_array(checkpoint, tmp_path):
    model = init_localizer(CONFIG, checkpoint[0],
                           cfg_options={'model.head.num_classes': 3})
    path, image = image_file(tmp_path)
    from_path = inference_localizer(model, path, topk=2)
    from_array = inference_localizer(model, image, topk=2)
    for key in ('pred_label', 'topk_labels', 'box'):
        assert np.array_equal(from_path[key], from_array[key]), key
    np.testing.assert_array_equal(from_path['score_map'],
                                  from_array['score_map'])

    result = from_path
    assert result['pred_class'] == ('a', 'b', 'c')[result['pred_label']]
    assert result['topk_scores'][0] >= result['topk_scores'][1]
    assert result['topk_labels'][0] == result['pred_label']
    assert result['fcam'].shape == image.shape[:2]
    score_map = result['score_map']
    assert score_map.shape == image.shape[:2]
    assert score_map.min() == 0.0 and score_map.max() == 1.0
    np.testing.assert_array_equal(result['mask'], score_map >= 0.5)
    assert result['box'].tolist() == largest_box_reference(score_map, 0.5)

    both = inference_localizer(model, [path, image], batch_size=1)
    assert len(both) == 2
    assert both[0]['box'].tolist() == both[1]['box'].tolist()


def test_array_must_be_uint8_bgr(checkpoint):
    model = init_localizer(CONFIG, checkpoint[0],
                           cfg_options={'model.head.num_classes': 3})
    with pytest.raises(ImageLoadError, match='HxWx3 uint8'):
        inference_localizer(model, np.zeros((8, 8), np.float32))


def test_config_object_is_not_modified():
    cfg = Config.fromfile(CONFIG)
    before = cfg.pretty_text
    init_localizer(cfg, cfg_options={'model.head.num_classes': 4})
    assert cfg.pretty_text == before


def test_scores_are_the_full_distribution(checkpoint, tmp_path):
    model = init_localizer(CONFIG, checkpoint[0],
                           cfg_options={'model.head.num_classes': 3})
    path, _ = image_file(tmp_path)
    result = inference_localizer(model, path, topk=3)
    scores = result['scores']
    assert scores.shape == (3, )
    assert scores.sum() == pytest.approx(1.0, abs=1e-6)
    # top-k is the sorted distribution, with the class names.
    assert result['topk_labels'] == np.argsort(-scores).tolist()
    np.testing.assert_allclose(result['topk_scores'], np.sort(scores)[::-1],
                               rtol=1e-6)
    assert result['topk_classes'] == [('a', 'b', 'c')[i]
                                      for i in result['topk_labels']]
    assert result['map_key'] == 'fcam'


def test_image_smaller_than_the_network_input(checkpoint):
    """The test pipeline resizes any image to the network's input; the maps,
    box and mask come back at the image's own size."""
    model = init_localizer(CONFIG, checkpoint[0],
                           cfg_options={'model.head.num_classes': 3})
    image = np.random.default_rng(0).integers(0, 256, (3, 5, 3), np.uint8)
    result = inference_localizer(model, image)
    assert result['fcam'].shape == (3, 5)
    assert result['mask'].shape == (3, 5)
    x0, y0, x1, y1 = result['box'].tolist()
    assert 0 <= x0 <= x1 <= 4 and 0 <= y0 <= y1 <= 2
    with pytest.raises(ImageLoadError, match='empty'):
        inference_localizer(model, np.zeros((0, 4, 3), np.uint8))


def test_unreadable_files_are_named(checkpoint, tmp_path):
    model = init_localizer(CONFIG, checkpoint[0],
                           cfg_options={'model.head.num_classes': 3})
    text = tmp_path / 'notes.png'
    text.write_text('not an image')
    with pytest.raises(ImageLoadError,
                       match=r'notes\.png: not a readable image'):
        inference_localizer(model, str(text))
    with pytest.raises(ImageLoadError, match=r'nothing\.png: no such file'):
        inference_localizer(model, str(tmp_path / 'nothing.png'))


def test_pixel_cap_applies_to_files(checkpoint, tmp_path):
    """The 90x120 image (10,800 pixels) is refused from its header under a
    cap of 10,799 pixels, read under 10,800 and with no cap."""
    from fcam_mm.apis.inference import ImageTooLargeError
    model = init_localizer(CONFIG, checkpoint[0],
                           cfg_options={'model.head.num_classes': 3})
    path, _ = image_file(tmp_path)
    with pytest.raises(ImageTooLargeError, match=r'img\.png'):
        inference_localizer(model, path, max_pixels=10_799)
    capped = inference_localizer(model, path, max_pixels=10_800)
    free = inference_localizer(model, path, max_pixels=None)
    assert capped['mask'].shape == free['mask'].shape == (90, 120)
    assert np.array_equal(capped['score_map'], free['score_map'])


def test_mismatched_checkpoint_names_the_keys(checkpoint, tmp_path):
    path, _ = checkpoint
    # Wrong number of classes: the head's shapes differ.
    classes = Config.fromfile(CONFIG).model.head.num_classes
    assert classes != 3
    with pytest.raises(CheckpointMismatchError,
                       match=r'does not match the model of .*tinyresnet_'
                       r'synthetic.py: 2 shape mismatches: head\.fc\.bias '
                       rf'\(checkpoint \(3,\), model \({classes},\)\); '
                       r'head\.fc\.weight \(checkpoint \(3, 128\), model '
                       rf'\({classes}, 128\)\)'):
        init_localizer(CONFIG, path)
    # A stage-1 checkpoint in the F-CAM config: only the decoder is missing.
    stage1 = init_localizer(STAGE1_CONFIG,
                            cfg_options={'model.head.num_classes': 3})
    stage1_path = str(tmp_path / 'stage1.pth')
    save_checkpoint(dict(state_dict=stage1.state_dict()), stage1_path)
    decoder_keys = [k for k in init_localizer(
        CONFIG, cfg_options={'model.head.num_classes': 3}).state_dict()
        if k.startswith('decoder.')]
    with pytest.raises(CheckpointMismatchError,
                       match=rf'{len(decoder_keys)} missing keys .*decoder\.'
                       r'.*only the decoder is missing: a stage-1'):
        init_localizer(CONFIG, stage1_path,
                       cfg_options={'model.head.num_classes': 3})
    # The other way round.
    with pytest.raises(CheckpointMismatchError,
                       match=r'unexpected keys .*only decoder keys are '
                       'unexpected'):
        init_localizer(STAGE1_CONFIG, path,
                       cfg_options={'model.head.num_classes': 3})
    # strict=False loads what matches (the classifier) and leaves the rest.
    model = init_localizer(CONFIG, stage1_path, strict=False,
                           cfg_options={'model.head.num_classes': 3})
    for key, value in stage1.state_dict().items():
        assert torch.equal(model.state_dict()[key], value), key
