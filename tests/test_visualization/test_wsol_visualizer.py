"""WSOLVisualizer panels: layout, GT / predicted box pixels, TP/FP/FN
colouring counted on a hand-made map and mask."""
import numpy as np
import pytest
import torch

from fcam_mm.structures import WSOLDataSample
from fcam_mm.visualization import WSOLVisualizer
from fcam_mm.visualization.drawing import (FN_COLOR, FP_COLOR, GT_COLOR,
                                           PRED_COLOR, TP_COLOR)
from fcam_mm.visualization.wsol_visualizer import resolve_style

H, W = 60, 80
GREY = 128


def blob_map(h, w, box):
    """A map that is 1 inside ``box`` (x0, y0, x1, y1 inclusive), else 0."""
    m = np.zeros((h, w), np.float32)
    x0, y0, x1, y1 = box
    m[y0:y1 + 1, x0:x1 + 1] = 1
    return m


@pytest.fixture
def visualizer():
    return WSOLVisualizer(name='test-vis')


def grey_image():
    return np.full((H, W, 3), GREY, np.uint8)


def is_color(pixels, color):
    return (pixels == np.array(color, np.uint8)).all(axis=-1)


def test_layout_one_row_per_map_two_panels(visualizer):
    sample = WSOLDataSample(
        cam=torch.rand(7, 7), fcam=torch.rand(H, W),
        gt_bboxes=torch.tensor([[10., 10., 40., 30.]]))
    canvas = visualizer.draw_panels(grey_image(), sample, ('cam', 'fcam'),
                                    0.5)
    assert canvas.shape == (2 * H, 2 * W, 3) and canvas.dtype == np.uint8
    # a key the sample lacks is left out; none at all is an error
    canvas = visualizer.draw_panels(grey_image(), sample, ('cam', 'other'))
    assert canvas.shape == (H, 2 * W, 3)
    with pytest.raises(KeyError, match='none of the maps'):
        visualizer.draw_panels(grey_image(), sample, ('other', ))


def test_box_style_gt_green_prediction_red(visualizer):
    gt_box = (10, 8, 50, 40)
    pred_box = (30, 25, 70, 55)
    sample = dict(cam=blob_map(H, W, pred_box),
                  gt_bboxes=np.array([gt_box], np.float32))
    canvas = visualizer.draw_panels(grey_image(), sample, ('cam', ), 0.5,
                                    'box')
    loc = canvas[:, W:]
    x0, y0, x1, y1 = gt_box
    # GT box outline (2 px, inclusive corners): left / bottom edges green,
    # away from the caption band and from the predicted box
    assert is_color(loc[y0 + 15:y1 - 5, x0], GT_COLOR).all()
    assert is_color(loc[y1, x0 + 1:x0 + 15], GT_COLOR).all()
    # predicted box: the map's blob is exactly the foreground; the protocol
    # box is one pixel larger on the right / bottom (clipped to the image)
    px0, py0, px1, py1 = pred_box[0], pred_box[1], pred_box[2] + 1, min(
        pred_box[3] + 1, H - 1)
    assert is_color(loc[py1, px0 + 25:px1], PRED_COLOR).all()
    assert is_color(loc[py0 + 20:py1, px1], PRED_COLOR).all()
    # the thresholded region is tinted towards red, the rest is untouched
    inside = loc[py0 + 5, px0 + 5].astype(int)
    assert inside[0] > GREY and inside[1] < GREY and inside[2] < GREY
    np.testing.assert_array_equal(loc[H // 2, 3], [GREY] * 3)
    # the heat panel has no box drawn over it
    heat = canvas[:, :W]
    assert not is_color(heat[20:, :], GT_COLOR).any()


def test_mask_style_colours_count_tp_fp_fn(visualizer):
    gt_mask = np.zeros((H, W), np.uint8)
    gt_mask[20:40, 10:50] = 1          # 20 x 40 = 800 object pixels
    gt_mask[:, 75:] = 255              # ignore strip
    score = np.zeros((H, W), np.float32)
    score[30:50, 30:80] = 1            # prediction: 20 x 50 pixels
    sample = dict(fcam=score, gt_mask=gt_mask)
    assert resolve_style(sample) == 'mask'
    canvas = visualizer.draw_panels(grey_image(), sample, ('fcam', ), 0.5)
    # below the caption band (whose coloured words are a legend)
    top = 18
    loc = canvas[top:, W:].astype(int)
    # expected by hand: TP = rows 30-39 x cols 30-49 = 200; predicted
    # 1000, of which 100 in the ignore strip: FP = 1000 - 100 - 200 = 700;
    # FN = 800 - 200 = 600
    tint = {}
    for name, color in (('TP', TP_COLOR), ('FP', FP_COLOR),
                        ('FN', FN_COLOR)):
        c = np.array(color)
        # a tinted grey pixel moves towards the colour: channels at 255 up,
        # channels at 0 down
        up, down = c == 255, c == 0
        tint[name] = ((loc[..., up] > GREY).all(-1) &
                      (loc[..., down] < GREY).all(-1))
    assert tint['TP'].sum() == 200
    assert tint['FP'].sum() == 700
    assert tint['FN'].sum() == 600
    assert tint['TP'][35 - top, 40] and tint['FP'][45 - top, 60]
    assert tint['FN'][25 - top, 20]
    # ignore pixels are never coloured, even where predicted
    assert (loc[30 - top:50 - top, 75:] == GREY).all()


def test_without_threshold_shows_ground_truth_only(visualizer):
    sample = dict(cam=np.random.rand(5, 5),
                  gt_bboxes=np.array([[5, 20, 60, 50]], np.float32))
    canvas = visualizer.draw_panels(grey_image(), sample, ('cam', ), None)
    loc = canvas[:, W:]
    assert is_color(loc[25:50, 5], GT_COLOR).all()
    assert not is_color(loc, PRED_COLOR).any()


def test_mask_style_needs_a_mask_and_thresholds_are_checked(visualizer):
    sample = dict(cam=np.random.rand(5, 5))
    with pytest.raises(KeyError, match='needs a GT mask'):
        visualizer.draw_panels(grey_image(), sample, ('cam', ), 0.5, 'mask')
    with pytest.raises(ValueError, match=r"threshold of 'cam'"):
        visualizer.draw_panels(grey_image(), sample, ('cam', ), 1.5)
    with pytest.raises(ValueError, match='style must be one of'):
        visualizer.draw_panels(grey_image(), sample, ('cam', ), 0.5, 'boxes')


def test_per_map_thresholds_and_prediction_caption(visualizer):
    visualizer.dataset_meta = dict(classes=('cat', 'dog'))
    sample = dict(cam=blob_map(H, W, (5, 5, 30, 30)),
                  fcam=blob_map(H, W, (40, 20, 70, 50)),
                  pred_score=np.array([0.2, 0.8]), gt_label=np.array([0]))
    canvas = visualizer.draw_panels(grey_image(), sample, ('cam', 'fcam'),
                                    {'cam': 0.5, 'fcam': None})
    top_loc, bottom_loc = canvas[:H, W:], canvas[H:, W:]
    assert is_color(top_loc, PRED_COLOR).any()
    assert not is_color(bottom_loc[:-15], PRED_COLOR).any()
    # the bottom band holds the prediction caption over both panels
    assert (canvas[-3, :20] < GREY).all()


def test_add_datasample_writes_png(visualizer, tmp_path):
    import cv2
    sample = dict(cam=np.random.rand(6, 6),
                  gt_bboxes=np.array([[1, 2, 30, 40]], np.float32))
    out = str(tmp_path / 'x.png')
    canvas = visualizer.add_datasample('x', grey_image(), sample, ('cam', ),
                                       0.3, out_file=out)
    written = cv2.imread(out)[..., ::-1]
    np.testing.assert_array_equal(written, canvas)
