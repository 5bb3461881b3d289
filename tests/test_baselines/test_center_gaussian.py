"""The centre-Gaussian baseline: its map by hand, its configs, and what the
protocol's metrics make of it on cases whose answer is worked out here."""
import glob
import math
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config

from fcam_mm.evaluation.functional.wsol_protocol import prepare_scoremap
from fcam_mm.evaluation.metrics import (BoxLocalizationMetric,
                                        PixelLocalizationMetric)
from fcam_mm.models.localizers import CenterGaussianLocalizer
from fcam_mm.models.localizers.center_gaussian_localizer import \
    center_gaussian_maps
from fcam_mm.registry import MODELS
from fcam_mm.structures import WSOLDataSample

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
BASELINES = sorted(glob.glob(osp.join(REPO, 'configs', 'baselines',
                                      'center_gaussian_*.py')))


def batch(n, height, width, dtype=torch.float32, device='cpu'):
    return torch.zeros(n, 3, height, width, dtype=dtype, device=device)


# ------------------------------------------------------------ the map by hand
def test_centre_is_one_and_one_sigma_away_is_exp_minus_half():
    # 21 x 21 pixels, sigma = 5/21 of the side: 5 pixels. The centre pixel
    # is (10, 10); (15, 10), (10, 5) and (13, 14) (3-4-5) are 5 pixels away.
    maps = CenterGaussianLocalizer(sigma=5 / 21)(batch(1, 21, 21))
    assert maps.shape == (1, 21, 21)
    s = maps[0]
    assert s[10, 10].item() == 1.0
    assert s.max().item() == 1.0 and int(s.argmax()) == 10 * 21 + 10
    for y, x in ((10, 15), (5, 10), (13, 14), (6, 7)):
        assert s[y, x].item() == pytest.approx(math.exp(-0.5), rel=1e-6)
    # 10 pixels = 2 sigma: exp(-2)
    assert s[0, 10].item() == pytest.approx(math.exp(-2), rel=1e-6)


def test_symmetric_and_isotropic_in_normalised_coordinates():
    # 11 rows x 33 columns: 3 columns are 3/33 = 1/11 of the width, as 1
    # row is 1/11 of the height, so the two pixels get the same score:
    # exp(-(1/11)^2 / (2 * 0.2^2)).
    s = CenterGaussianLocalizer(sigma=0.2)(batch(1, 11, 33))[0]
    expected = math.exp(-(1 / 11) ** 2 / (2 * 0.2 ** 2))
    assert s[5, 16 + 3].item() == pytest.approx(expected, rel=1e-6)
    assert s[5 + 1, 16].item() == pytest.approx(expected, rel=1e-6)
    assert torch.equal(s, s.flip(0)) and torch.equal(s, s.flip(1))
    # even sides: the centre lies between pixels, the four around it tie
    e = CenterGaussianLocalizer(sigma=0.3)(batch(1, 8, 6))[0]
    assert torch.equal(e, e.flip(0)) and torch.equal(e, e.flip(1))
    top = e[3:5, 2:4]
    assert torch.all(top == e.max())
    # row 3 of 8: v = 3.5/8 - 1/2 = -1/16; column 2 of 6: u = -1/12
    assert e[3, 2].item() == pytest.approx(
        math.exp(-(1 / 144 + 1 / 256) / (2 * 0.09)), rel=1e-6)


def test_isotropic_in_the_evaluation_frame():
    """A map of a non-square input, resized to the protocol's 224 x 224 as
    the metrics do, is the Gaussian of std sigma * 224 pixels in both
    directions around the frame's centre (up to the bicubic error)."""
    sigma = 0.25
    s = CenterGaussianLocalizer(sigma=sigma)(batch(1, 56, 112))[0]
    resized, _ = prepare_scoremap(s.numpy(), (224, 224), normalize=False)
    centre = np.arange(224) + 0.5 - 112
    d2 = centre[None, :] ** 2 + centre[:, None] ** 2
    analytic = np.exp(-d2 / (2 * (sigma * 224) ** 2))
    # (bicubic error of a 4x / 2x upsampling: ~0.005 at the border)
    assert np.abs(resized - analytic).max() < 0.01
    assert np.abs(resized - resized.T).max() < 0.01
    # a Gaussian isotropic in the input's pixels would not be: on this
    # 1:2 input it becomes twice as wide as tall at 224 x 224
    pixels = center_gaussian_maps(torch.tensor([[56., 56.]]), (56, 112),
                                  sigma)[0]
    wrong, _ = prepare_scoremap(pixels.numpy(), (224, 224), normalize=False)
    assert np.abs(wrong - wrong.T).max() > 0.2


def test_device_dtype_and_batch():
    model = CenterGaussianLocalizer(sigma=0.3)
    assert not list(model.parameters()) and not model.state_dict()
    maps64 = model(batch(3, 16, 24, torch.float64))
    assert maps64.dtype == torch.float64 and maps64.shape == (3, 16, 24)
    assert torch.equal(maps64[0], maps64[2])
    # uint8 inputs: maps in the default floating dtype
    assert model(batch(2, 4, 4, torch.uint8)).dtype == torch.float32
    # built on the inputs' device (meta: no data, device and shape only)
    meta = model(batch(2, 16, 24, device='meta'))
    assert meta.device.type == 'meta' and meta.shape == (2, 16, 24)
    if torch.cuda.is_available():
        cuda = model(batch(2, 16, 24, device='cuda'))
        assert cuda.device.type == 'cuda'
        torch.testing.assert_close(cuda.cpu(), model(batch(2, 16, 24)))


def test_predict_centres_each_image_inside_a_padded_batch():
    model = CenterGaussianLocalizer(sigma=0.2)
    samples = [WSOLDataSample(metainfo=dict(img_shape=(16, 24))),
               WSOLDataSample(metainfo=dict(img_shape=(10, 20)))]
    out = model.predict(batch(2, 16, 24), samples)
    assert out is samples
    assert samples[0].cam.shape == (16, 24)
    assert samples[1].cam.shape == (10, 20)
    assert 'pred_score' not in samples[0]  # no classifier, no fake scores
    # the padded image's map is the one of a 10 x 20 input alone
    alone = model(batch(1, 10, 20))[0]
    torch.testing.assert_close(samples[1].cam, alone, rtol=1e-6, atol=0)
    torch.testing.assert_close(samples[0].cam, model(batch(1, 16, 24))[0],
                               rtol=1e-6, atol=0)
    # without data samples: the whole frame
    plain = model.predict(batch(2, 16, 24))
    assert [p.cam.shape for p in plain] == [(16, 24), (16, 24)]
    with pytest.raises(ValueError, match='does not fit'):
        model.predict(batch(1, 8, 8),
                      [WSOLDataSample(metainfo=dict(img_shape=(9, 8)))])


def test_nothing_to_train_and_bad_sigma():
    model = CenterGaussianLocalizer()
    with pytest.raises(RuntimeError, match='nothing to train'):
        model(batch(1, 8, 8), [WSOLDataSample()], mode='loss')
    with pytest.raises(RuntimeError, match='Invalid mode'):
        model(batch(1, 8, 8), mode='nope')
    for sigma in (0, -0.1, float('nan'), float('inf')):
        with pytest.raises(ValueError, match='sigma must be a positive'):
            CenterGaussianLocalizer(sigma=sigma)


# ----------------------------------------------- through the metrics by hand
def gaussian_samples(boxes=None, masks=None, sigma=0.25, size=224):
    """Data samples of 224 x 224 images (input = evaluation frame) whose
    `cam` the model fills."""
    n = len(boxes if boxes is not None else masks)
    samples = []
    for i in range(n):
        sample = WSOLDataSample(metainfo=dict(
            ori_shape=(size, size), img_shape=(size, size)))
        sample.set_gt_label(0)
        if boxes is not None:
            sample.set_gt_bboxes([boxes[i]])
        if masks is not None:
            sample.gt_mask = masks[i]
        samples.append(sample)
    model = CenterGaussianLocalizer(sigma=sigma)
    return model.predict(batch(n, size, size), samples)


def box_metrics(samples, **kwargs):
    metric = BoxLocalizationMetric(topk=(), prefix='g', **kwargs)
    metric.process({}, samples)
    return {k[len('g/'):]: v for k, v in metric.evaluate(len(samples)).items()}


def pxap(samples):
    metric = PixelLocalizationMetric(prefix='g')
    metric.process({}, samples)
    return metric.evaluate(len(samples))['g/PxAP']


CENTRED = [62, 62, 161, 161]  # 100 x 100, centred on (111.5, 111.5)
CORNER = [0, 0, 49, 49]       # 50 x 50 in the top-left corner


def test_centred_box_is_found_and_corner_box_never():
    """The Gaussian's level sets are discs around the centre, so every
    predicted box is a square concentric with the image (clipped to it).

    Centred 100 x 100 GT: the squares of side 71..141 have IoU >= 0.5
    (side^2 / 100^2 or 100^2 / side^2), and the 255 levels of a sigma of
    56 px give radii well under a pixel apart there: MaxBoxAcc 100.

    Corner 50 x 50 GT: a centred square reaches it only with a side of at
    least 2 * (111.5 - 49) = 125, so IoU <= 50^2 / 125^2 = 0.16 < 0.3 at
    every threshold: 0 at every IoU level."""
    centred = box_metrics(gaussian_samples(boxes=[CENTRED]))
    assert centred['MaxBoxAcc'] == 100.0
    assert centred['MaxBoxAccV2@50'] == 100.0
    corner = box_metrics(gaussian_samples(boxes=[CORNER]))
    assert corner['MaxBoxAcc'] == 0.0 and corner['MaxBoxAccV2'] == 0.0
    both = box_metrics(gaussian_samples(boxes=[CENTRED, CORNER]))
    assert both['MaxBoxAcc'] == 50.0
    assert both['gt_known'] == both['MaxBoxAcc']


def test_no_classifier_means_no_topk_localization():
    samples = gaussian_samples(boxes=[CENTRED])
    metrics = box_metrics(samples)
    assert not any('top' in key for key in metrics)
    assert {'MaxBoxAcc', 'MaxBoxAccV2', 'gt_known'} <= set(metrics)
    # the default metric (top-1/top-5 loc) refuses to score it, and says why
    with pytest.raises(KeyError, match=r"no 'pred_score'.*topk=\(\)"):
        BoxLocalizationMetric().process({}, samples)


def test_pxap_of_an_object_made_of_the_most_central_pixels():
    """The object is the 12 pixels nearest the centre (squared distances
    0.5 (4 pixels) and 2.5 (8 pixels) to the centre (111.5, 111.5)). The
    Gaussian scores them above every other pixel, and with sigma 0.05
    (11.2 px) the next distance (4.5) scores exp(-2.5/250.88) -
    exp(-4.5/250.88) = 0.0079 lower — more than the 0.001 threshold step,
    so no threshold mixes object and background: precision is 1 up to
    recall 1, PxAP is 100. The complement object (everything else) is
    ranked last: the precision rises to its share of the image only at
    full recall, so PxAP stays below that share."""
    c = np.arange(224) + 0.5 - 112
    d2 = c[None, :] ** 2 + c[:, None] ** 2
    mask = (d2 <= 2.5).astype(np.uint8)
    assert mask.sum() == 12
    assert pxap(gaussian_samples(masks=[mask], sigma=0.05)) == \
        pytest.approx(100.0, abs=1e-9)
    share = 100 * (224 * 224 - 12) / 224 ** 2
    assert pxap(gaussian_samples(masks=[1 - mask], sigma=0.05)) < share


def test_what_the_uint8_levels_can_reach():
    """Why a small sigma fails: the box metrics threshold the uint8 map
    q = int(255 s), so at the lowest level (q > 0) the foreground is the
    disc where s >= 1/255, d <= sigma * sqrt(2 ln 255) = 3.33 sigma. With
    sigma 0.05 (11.2 px at 224) that is d <= 37.28 px: columns 75..148
    (|x + 1/2 - 112| <= 37.28), so the largest box any threshold gives is
    [75, 75, 149, 149] (the reference's one extra pixel right and bottom)
    — no object wider than a third of the image can be boxed. With 0.25
    the lowest level covers the image up to its corners."""
    from fcam_mm.evaluation.functional import boxes_at_all_levels
    from fcam_mm.evaluation.functional.wsol_protocol import \
        quantize_scoremap
    largest = {}
    for sigma in (0.05, 0.25):
        cam = gaussian_samples(boxes=[CENTRED], sigma=sigma)[0].cam
        scoremap, _ = prepare_scoremap(cam.numpy(), (224, 224))
        largest[sigma] = boxes_at_all_levels(quantize_scoremap(scoremap))[0]
    assert largest[0.05][0].tolist() == [75, 75, 149, 149]
    assert largest[0.25][0].tolist() == [0, 0, 223, 223]
    # every level's box is a square around the centre
    for boxes in largest.values():
        x0, y0, x1, y1 = boxes.T
        assert np.array_equal(x0, y0) and np.array_equal(x1, y1)


# ------------------------------------------------------------- the configs
def test_three_baseline_configs():
    names = [osp.basename(p) for p in BASELINES]
    assert names == ['center_gaussian_cub.py',
                     'center_gaussian_openimages.py',
                     'center_gaussian_synthetic.py']


@pytest.mark.parametrize('path', BASELINES,
                         ids=[osp.basename(p) for p in BASELINES])
def test_baseline_config_facts(path):
    cfg = Config.fromfile(path)
    model = MODELS.build(cfg.model)
    assert isinstance(model, CenterGaussianLocalizer) and model.sigma > 0
    assert not model.state_dict()
    assert cfg.train_dataloader is None
    assert cfg.test_evaluator == cfg.val_evaluator
    kinds = {m.type: m for m in cfg.val_evaluator}
    dataset = path.rsplit('_', 1)[1][:-3]
    expected = dict(cub={'BoxLocalizationMetric'},
                    openimages={'PixelLocalizationMetric'},
                    synthetic={'BoxLocalizationMetric',
                               'PixelLocalizationMetric'})[dataset]
    assert set(kinds) == expected  # no ClassificationMetric: no classifier
    if 'BoxLocalizationMetric' in kinds:
        assert tuple(kinds['BoxLocalizationMetric'].topk) == ()
    assert all(m.map_key == 'cam' for m in cfg.val_evaluator)
    # the leaf states the command that chooses its sigma
    assert 'tools/analysis_tools/center_gaussian_sigma.py' in open(
        path).read()
