"""BoxLocalizationMetric: every number equals the literal reference
procedure (tests/test_evaluation/reference_protocol.py) on random inputs,
and the documented errors."""
import numpy as np
import pytest
import torch

from fcam_mm.evaluation import BoxLocalizationMetric
from fcam_mm.evaluation.functional import boxes_at_all_levels

from . import reference_protocol as ref


def random_samples(n, seed, low_res=(7, 14, 28), num_classes=8):
    rng = np.random.default_rng(seed)
    samples = []
    for i in range(n):
        r = low_res[i % len(low_res)]
        h, w = (int(v) for v in rng.integers(40, 400, 2))
        boxes = []
        for _ in range(int(rng.integers(1, 4))):
            x0, x1 = np.sort(rng.integers(0, w, 2))
            y0, y1 = np.sort(rng.integers(0, h, 2))
            boxes.append([x0, y0, x1, y1])
        cam = rng.random((r, r)) ** int(rng.integers(1, 4))
        samples.append(dict(
            cam=torch.from_numpy(cam.astype(np.float32)),
            ori_shape=(h, w),
            gt_bboxes=torch.tensor(boxes, dtype=torch.float32),
            gt_label=torch.tensor([int(rng.integers(num_classes))]),
            pred_score=torch.from_numpy(rng.random(num_classes))))
    return samples


def as_reference(samples):
    return [
        dict(cam=s['cam'].numpy(), ori_shape=s['ori_shape'],
             gt_bboxes=s['gt_bboxes'].numpy(),
             gt_label=int(s['gt_label'][0]),
             pred_score=s['pred_score'].numpy()) for s in samples
    ]


def run_metric(samples, batch=3, **kwargs):
    metric = BoxLocalizationMetric(**kwargs)
    for i in range(0, len(samples), batch):
        metric.process(None, samples[i:i + batch])
    return metric.evaluate(len(samples)), metric


@pytest.mark.parametrize('algorithm', ['level_sets', 'contours'])
def test_every_number_matches_the_reference(algorithm):
    samples = random_samples(14, seed=0)
    size = (48, 56)
    metrics, metric = run_metric(samples, eval_size=size,
                                 box_algorithm=algorithm)
    expected, curves = ref.box_evaluation(as_reference(samples), size)
    assert set(metrics) == {f'loc/{k}' for k in expected}
    for key, value in expected.items():
        assert metrics[f'loc/{key}'] == value, key
    for key, curve in curves.items():
        np.testing.assert_array_equal(metric.curves[key], curve)


def test_protocol_size_224_matches_the_reference():
    samples = random_samples(3, seed=1, low_res=(7, 28))
    metrics, _ = run_metric(samples)
    expected, _ = ref.box_evaluation(as_reference(samples))
    for key, value in expected.items():
        assert metrics[f'loc/{key}'] == value, key


def test_full_resolution_maps_and_prefix():
    """A full-resolution map (F-CAM) under another key, another prefix."""
    rng = np.random.default_rng(2)
    samples = random_samples(4, seed=2)
    for s in samples:
        h, w = s['ori_shape']
        s['fcam'] = torch.from_numpy(rng.random((h, w)))
    metrics, _ = run_metric(samples, map_key='fcam', prefix='fcam',
                            eval_size=40)
    ref_samples = as_reference(samples)
    for r, s in zip(ref_samples, samples):
        r['cam'] = s['fcam'].numpy()
    expected, _ = ref.box_evaluation(ref_samples, (40, 40))
    assert metrics['fcam/MaxBoxAcc'] == expected['MaxBoxAcc']
    assert metrics['fcam/MaxBoxAccV2'] == expected['MaxBoxAccV2']


def test_threshold_step_option():
    samples = random_samples(5, seed=3)
    metrics, metric = run_metric(samples, eval_size=32,
                                 cam_curve_interval=0.01)
    expected, _ = ref.box_evaluation(as_reference(samples), (32, 32), 0.01)
    assert len(metric.curves['accuracy']) == 100
    for key, value in expected.items():
        assert metrics[f'loc/{key}'] == value, key


def test_data_elements_are_accepted():
    from fcam_mm.structures import WSOLDataSample
    samples = random_samples(2, seed=4)
    elements = []
    for s in samples:
        e = WSOLDataSample(metainfo=dict(ori_shape=s['ori_shape']))
        e.set_gt_label(s['gt_label'])
        e.set_gt_bboxes(s['gt_bboxes'])
        e.set_pred_score(s['pred_score'])
        e.cam = s['cam']
        elements.append(e)
    a, _ = run_metric(samples, eval_size=32)
    b, _ = run_metric(elements, eval_size=32)
    assert a == b


def _sample(**overrides):
    s = dict(cam=torch.rand(7, 7), ori_shape=(20, 30),
             gt_bboxes=torch.tensor([[1., 2., 10., 12.]]),
             gt_label=torch.tensor([1]), pred_score=torch.rand(4))
    s.update(overrides)
    return s


@pytest.mark.parametrize('overrides, error, match', [
    (dict(cam=torch.rand(2, 7, 7)), ValueError, 'shape'),
    (dict(cam=torch.rand(7)), ValueError, 'shape'),
    (dict(cam=torch.zeros(0, 7)), ValueError, 'empty'),
    (dict(cam=torch.tensor([[1., float('inf')], [0., 1.]])), ValueError,
     'infinite'),
    (dict(ori_shape=(-20, 30)), ValueError, 'positive'),
    (dict(ori_shape=(0, 30)), ValueError, 'positive'),
    (dict(gt_bboxes=torch.zeros(0, 4)), ValueError, 'no box'),
    (dict(gt_bboxes=torch.tensor([[5., 2., 1., 12.]])), ValueError,
     'x1 >= x0'),
    (dict(gt_bboxes=torch.tensor([[-1., 2., 10., 12.]])), ValueError,
     'non-negative'),
    (dict(gt_bboxes=torch.tensor([[1., 2., float('nan'), 12.]])),
     ValueError, 'non-finite'),
    (dict(gt_bboxes=torch.tensor([[1., 2., 3.]])), ValueError, 'shape'),
    (dict(gt_label=torch.tensor([7])), ValueError, 'outside'),
    (dict(pred_score=torch.tensor([0.1, float('nan'), 0.2, 0.3])),
     ValueError, 'non-finite'),
])
def test_bad_inputs_raise(overrides, error, match):
    metric = BoxLocalizationMetric(eval_size=16)
    with pytest.raises(error, match=match):
        metric.process(None, [_sample(**overrides)])


def test_missing_keys_raise_and_topk_can_be_dropped():
    metric = BoxLocalizationMetric(eval_size=16)
    s = _sample()
    del s['pred_score']
    with pytest.raises(KeyError, match='pred_score'):
        metric.process(None, [s])
    metric = BoxLocalizationMetric(eval_size=16, topk=())
    metric.process(None, [s])
    out = metric.evaluate(1)
    assert 'loc/top1_loc' not in out and 'loc/MaxBoxAcc' in out
    with pytest.raises(KeyError, match="'cam'"):
        BoxLocalizationMetric(eval_size=16, topk=()).process(
            None, [dict(ori_shape=(3, 3), gt_bboxes=[[0, 0, 1, 1]])])


def test_bad_options_raise():
    with pytest.raises(ValueError):
        BoxLocalizationMetric(eval_size=0)
    with pytest.raises(ValueError):
        BoxLocalizationMetric(eval_size=(224, -1))
    with pytest.raises(ValueError):
        BoxLocalizationMetric(cam_curve_interval=0)
    with pytest.raises(ValueError):
        BoxLocalizationMetric(cam_curve_interval=1.5)
    with pytest.raises(ValueError):
        BoxLocalizationMetric(iou_thresholds=(30, 150))
    with pytest.raises(ValueError):
        BoxLocalizationMetric(box_algorithm='magic')


def test_eval_size_beyond_exact_level_set_counts_is_refused():
    """The level-set areas are float32 counts of 2 per 2×2 cell of the
    padded map: exact while 2·(H+1)·(W+1) <= 2**24, i.e. up to 2895²."""
    from fcam_mm.evaluation.functional.level_set_boxes import \
        check_level_set_size
    assert 2 * 2896 * 2896 <= 2**24 < 2 * 2897 * 2897
    check_level_set_size((2895, 2895))  # the largest square that fits
    with pytest.raises(ValueError, match=r'eval_size 2896x2896'):
        BoxLocalizationMetric(eval_size=2896)
    with pytest.raises(ValueError, match='map size 2896x2896'):
        boxes_at_all_levels(np.zeros((2896, 2896), np.uint8))


def test_sample_count_mismatch_is_an_error():
    metric = BoxLocalizationMetric(eval_size=16)
    metric.process(None, [_sample(), _sample()])
    with pytest.raises(RuntimeError, match='counted 2 samples'):
        metric.evaluate(3)


def test_state_is_reset_after_evaluate():
    samples = random_samples(3, seed=5)
    metric = BoxLocalizationMetric(eval_size=24)
    metric.process(None, samples)
    first = metric.evaluate(3)
    metric.process(None, samples)
    assert metric.evaluate(3) == first


def test_curves_are_dumped(tmp_path):
    samples = random_samples(3, seed=6)
    metric = BoxLocalizationMetric(eval_size=24, out_dir=str(tmp_path),
                                   prefix='cam')
    metric.process(None, samples)
    metric.evaluate(3)
    data = np.load(tmp_path / 'cam_box_curves.npz')
    assert data['accuracy'].shape == (1000, )
    assert data['quantized_hist'].sum() == 3 * 24 * 24
    np.testing.assert_array_equal(data['accuracy'],
                                  metric.curves['accuracy'])


def test_box_pixel_and_classification_share_a_prefix_in_an_evaluator():
    """The configs evaluate the CAM with both localization metrics under one
    prefix: no key may collide (mmengine's Evaluator rejects duplicates)."""
    from mmengine.evaluator import Evaluator
    rng = np.random.default_rng(7)
    samples = random_samples(4, seed=7)
    for s in samples:
        h, w = s['ori_shape']
        s['gt_mask'] = (rng.random((h, w)) < 0.4).astype(np.uint8)
    evaluator = Evaluator([
        dict(type='BoxLocalizationMetric', prefix='cam', eval_size=32),
        dict(type='PixelLocalizationMetric', prefix='cam', eval_size=32),
        dict(type='ClassificationMetric', prefix='cls'),
    ])
    evaluator.process(samples, None)
    out = evaluator.evaluate(4)
    assert {'cam/MaxBoxAcc', 'cam/PxAP', 'cam/best_tau', 'cam/best_f1_tau',
            'cls/top1', 'cls/top5'} <= set(out)


def test_maps_in_unit_range_without_normalisation():
    cam = np.zeros((8, 8))
    cam[2:5, 2:5] = 0.4  # max 0.4: levels int(tau * 102)
    sample = dict(cam=cam, ori_shape=(8, 8), gt_bboxes=[[2, 2, 5, 5]])
    metric = BoxLocalizationMetric(eval_size=8, topk=(), normalize=False)
    metric.process(None, [sample])
    metric.evaluate(1)
    q = int(0.4 * 255)  # 102
    levels = (np.arange(0, 1, 0.001) * q).astype(int)
    np.testing.assert_array_equal(metric.curves['accuracy'],
                                  np.where(levels < q, 100., 0.))
    bad = dict(sample, cam=cam * 3)
    with pytest.raises(ValueError, match='normalize=False'):
        metric.process(None, [bad])


def test_bicubic_overshoot_is_clipped_without_normalisation():
    """A map in [0, 1] whose bicubic resize overshoots (a sharp 0/1 edge)
    is evaluated as the clipped resize; the protocol's uint8 map of the
    clipped resize peaks at 255."""
    from fcam_mm.evaluation.functional.wsol_protocol import (
        prepare_scoremap, resize_scoremap)
    cam = np.zeros((7, 7))
    cam[2:5, 2:5] = 1.0
    raw = resize_scoremap(cam, (16, 16))
    assert raw.max() > 1.0 and raw.min() < 0.0  # the overshoot is real
    prepared, degenerate = prepare_scoremap(cam, (16, 16), normalize=False)
    np.testing.assert_array_equal(prepared, np.clip(raw, 0, 1))
    assert not degenerate
    for bad in (cam * 1.01, cam - 0.01, np.full((7, 7), np.nan)):
        with pytest.raises(ValueError, match=r'must lie in \[0, 1\]'):
            prepare_scoremap(bad, (16, 16), normalize=False)
