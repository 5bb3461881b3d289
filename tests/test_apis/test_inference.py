import os.path as osp

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.runner.checkpoint import save_checkpoint

from fcam_mm.apis import inference_localizer, init_localizer

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = osp.join(REPO, 'configs', 'fcam', 'tinyresnet_synthetic.py')


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
    with pytest.raises(ValueError, match='HxWx3 uint8'):
        inference_localizer(model, np.zeros((8, 8), np.float32))


def test_config_object_is_not_modified():
    cfg = Config.fromfile(CONFIG)
    before = cfg.pretty_text
    init_localizer(cfg, cfg_options={'model.head.num_classes': 4})
    assert cfg.pretty_text == before
