import numpy as np
import pytest
import torch

from fcam_mm.evaluation import ClassificationMetric
from fcam_mm.registry import METRICS


def test_topk_with_ties_uses_a_stable_order():
    samples = [
        dict(gt_label=torch.tensor([1]), pred_score=torch.tensor(
            [0.2, 0.5, 0.3])),  # rank 0
        dict(gt_label=torch.tensor([2]), pred_score=torch.tensor(
            [0.4, 0.4, 0.4])),  # ties: classes 0 and 1 come first: rank 2
        dict(gt_label=torch.tensor([0]), pred_score=torch.tensor(
            [0.4, 0.4, 0.2])),  # tie broken for class 0: rank 0
        dict(gt_label=torch.tensor([2]), pred_score=torch.tensor(
            [0.9, 0.05, 0.05])),  # rank 2 (class 1 first)
    ]
    metric = ClassificationMetric(topk=(1, 2, 3))
    metric.process(None, samples)
    out = metric.evaluate(4)
    assert out == {'cls/top1': 50.0, 'cls/top2': 50.0, 'cls/top3': 100.0}
    # the stable order is torch's
    for s in samples:
        order = torch.sort(s['pred_score'], descending=True, stable=True)[1]
        rank = int((order == s['gt_label'][0]).nonzero()[0, 0])
        assert (rank == 0) == (int(s['pred_score'].argmax()) ==
                               int(s['gt_label'][0]))


def test_random_against_torch_topk():
    rng = np.random.default_rng(0)
    scores = torch.from_numpy(rng.random((50, 20)))
    labels = torch.from_numpy(rng.integers(0, 20, 50))
    metric = METRICS.build(dict(type='ClassificationMetric'))
    metric.process(None, [dict(gt_label=labels[i:i + 1], pred_score=scores[i])
                          for i in range(50)])
    out = metric.evaluate(50)
    top5 = scores.topk(5, dim=1).indices
    assert out['cls/top1'] == float(
        (scores.argmax(1) == labels).double().mean() * 100)
    assert out['cls/top5'] == float(
        (top5 == labels[:, None]).any(1).double().mean() * 100)


def test_errors():
    with pytest.raises(ValueError):
        ClassificationMetric(topk=())
    metric = ClassificationMetric()
    with pytest.raises(ValueError, match='exactly one'):
        metric.process(None, [dict(gt_label=torch.tensor([1, 2]),
                                   pred_score=torch.rand(3))])
    with pytest.raises(KeyError, match='pred_score'):
        metric.process(None, [dict(gt_label=torch.tensor([1]))])
