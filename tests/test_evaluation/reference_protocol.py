"""A literal, slow re-implementation of the procedure of Choe et al.'s
``wsolevaluation`` (CVPR 2020), used as the oracle of the tests.

Written independently of ``fcam_mm.evaluation``: it follows the reference
step by step (float64 map, bicubic resize, normalisation, one
``cv2.threshold`` + ``cv2.findContours`` per threshold, per-threshold box
lists, IoU of every box with every GT box, per-image ``np.histogram`` for
the pixel metric) with no shortcut, so agreement with the fast metrics is
evidence, not tautology.
"""
import cv2
import numpy as np


def thresholds(step=0.001):
    return list(np.arange(0, 1, step))


def normalize(cam):
    cam = np.array(cam, dtype=np.float64)
    if np.isnan(cam).any():
        return np.zeros_like(cam)
    if cam.min() == cam.max():
        return np.zeros_like(cam)
    cam -= cam.min()
    cam /= cam.max()
    return cam


def prepare(cam, size_hw):
    """float64 -> bicubic resize -> normalise (the reference's order)."""
    cam = np.asarray(cam, dtype=np.float64)
    resized = cv2.resize(cam, (size_hw[1], size_hw[0]),
                         interpolation=cv2.INTER_CUBIC)
    return normalize(resized)


def resize_box(box, image_wh, new_wh):
    x0, y0, x1, y1 = map(float, box)
    w, h = map(float, image_wh)
    nw, nh = map(float, new_wh)
    return (int(x0 * nw / w), int(y0 * nh / h), int(x1 * nw / w),
            int(y1 * nh / h))


def boxes_per_threshold(scoremap, taus, multi_contour):
    height, width = scoremap.shape
    image = np.expand_dims((scoremap * 255).astype(np.uint8), 2)
    out = []
    for tau in taus:
        _, binary = cv2.threshold(image, int(tau * np.max(image)), 255,
                                  cv2.THRESH_BINARY)
        contours = cv2.findContours(binary, cv2.RETR_TREE,
                                    cv2.CHAIN_APPROX_SIMPLE)[0]
        if len(contours) == 0:
            out.append(np.asarray([[0, 0, 0, 0]]))
            continue
        if not multi_contour:
            contours = [max(contours, key=cv2.contourArea)]
        boxes = []
        for contour in contours:
            x, y, w, h = cv2.boundingRect(contour)
            boxes.append([x, y, min(x + w, width - 1), min(y + h, height - 1)])
        out.append(np.asarray(boxes))
    return out


def iou_matrix(boxes_a, boxes_b):
    a = np.asarray(boxes_a)
    b = np.asarray(boxes_b)
    out = np.zeros((len(a), len(b)))
    for i, (ax0, ay0, ax1, ay1) in enumerate(a):
        for j, (bx0, by0, bx1, by1) in enumerate(b):
            iw = max(0, min(ax1, bx1) - max(ax0, bx0) + 1)
            ih = max(0, min(ay1, by1) - max(ay0, by0) + 1)
            inter = iw * ih
            union = ((ax1 - ax0 + 1) * (ay1 - ay0 + 1) +
                     (bx1 - bx0 + 1) * (by1 - by0 + 1) - inter)
            out[i, j] = 0 if union <= 0 else inter / union
    return out


def box_evaluation(samples, size_hw=(224, 224), step=0.001,
                   iou_list=(30, 50, 70)):
    """Every box number of the protocol, the slow way.

    ``samples``: dicts with ``cam`` (2-D array), ``ori_shape`` (H, W),
    ``gt_bboxes`` (n, 4), ``gt_label`` (int), ``pred_score`` (K,).
    """
    taus = thresholds(step)
    n_tau = len(taus)
    correct = {('v1', 50): np.zeros(n_tau)}
    for t in iou_list:
        correct[('v2', t)] = np.zeros(n_tau)
    top = {k: {key: np.zeros(n_tau) for key in correct} for k in (1, 5)}
    count = 0
    for s in samples:
        scoremap = prepare(s['cam'], size_hw)
        h, w = s['ori_shape']
        gt = [resize_box(b, (w, h), (size_hw[1], size_hw[0]))
              for b in np.asarray(s['gt_bboxes']).tolist()]
        order = np.argsort(-np.asarray(s['pred_score']), kind='stable')
        for mode, multi in (('v1', False), ('v2', True)):
            per_tau = boxes_per_threshold(scoremap, taus, multi)
            best_iou = [iou_matrix(b, gt).max() for b in per_tau]
            for key in correct:
                if key[0] != mode:
                    continue
                ok = np.asarray(best_iou) >= key[1] / 100
                correct[key][ok] += 1
                if order[0] == s['gt_label']:
                    top[1][key][ok] += 1
                if s['gt_label'] in order[:5]:
                    top[5][key][ok] += 1
        count += 1
    result = {}
    best = {}
    for key, c in correct.items():
        acc = c * 100. / float(count)
        best[key] = int(np.argmax(acc))
        result[key] = (acc.max(), taus[best[key]])
    v1 = ('v1', 50)
    metrics = {
        'MaxBoxAcc': result[v1][0],
        'best_tau': float(result[v1][1]),
        'MaxBoxAccV2': np.average([result[('v2', t)][0] for t in iou_list]),
        'gt_known': result[v1][0],
    }
    for t in iou_list:
        metrics[f'MaxBoxAccV2@{t}'] = result[('v2', t)][0]
        metrics[f'best_tau_V2@{t}'] = float(result[('v2', t)][1])
    for k in (1, 5):
        metrics[f'top{k}_loc'] = top[k][v1][best[v1]] * 100. / count
        metrics[f'top{k}_loc_V2'] = (
            top[k][('v2', 50)][best[('v2', 50)]] * 100. / count)
    curves = {'accuracy': correct[v1] * 100. / count}
    for t in iou_list:
        curves[f'accuracy_V2@{t}'] = correct[('v2', t)] * 100. / count
    return metrics, curves


def pxap_evaluation(samples, size_hw=(224, 224), step=0.001):
    """PxAP the reference way: per-image np.histogram of the object and
    background scores (ignore dropped), summed, then the AP formula."""
    taus = thresholds(step)
    edges = np.append(taus, [1.0, 2.0, 3.0])
    pos_hist = np.zeros(len(taus) + 2)
    neg_hist = np.zeros(len(taus) + 2)
    for s in samples:
        scoremap = prepare(s['cam'], size_hw)
        mask = cv2.resize(
            np.asarray(s['gt_mask'], np.float32), (size_hw[1], size_hw[0]),
            interpolation=cv2.INTER_NEAREST)
        pos_hist += np.histogram(scoremap[mask == 1], bins=edges)[0]
        neg_hist += np.histogram(scoremap[mask == 0], bins=edges)[0]
    tp = pos_hist[::-1].cumsum()
    fn = pos_hist.sum() - tp
    fp = neg_hist[::-1].cumsum()
    if ((tp + fn) <= 0).all():
        raise RuntimeError('no positive')
    nonzero = (tp + fp) != 0
    with np.errstate(invalid='ignore', divide='ignore'):
        precision = tp / (tp + fp)
        recall = tp / (tp + fn)
        auc = (precision[1:] * np.diff(recall))[nonzero[1:]].sum()
    return auc * 100, pos_hist, neg_hist
