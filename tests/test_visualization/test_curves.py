"""Curve figures draw exactly the metrics' curves; loading the npz files
the metrics write; histogram rebinning and densities."""
import numpy as np
import pytest

from fcam_mm.evaluation.metrics import (BoxLocalizationMetric,
                                        PixelLocalizationMetric)
from fcam_mm.visualization.curves import (activation_histograms,
                                          curve_figures, curves_from_metrics,
                                          density, figure_to_array,
                                          load_curve_files,
                                          plot_activation_histograms,
                                          plot_pr_curves,
                                          plot_threshold_curves, rebin,
                                          summarize_runs)


def random_samples(rng, n=6, size=32):
    samples = []
    for _ in range(n):
        yy, xx = np.mgrid[:size, :size]
        cy, cx = rng.integers(8, size - 8, 2)
        cam = np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / 40.) + \
            0.2 * rng.random((size, size))
        mask = np.zeros((size, size), np.uint8)
        mask[cy - 5:cy + 5, cx - 6:cx + 6] = 1
        mask[0, :] = 255
        samples.append(dict(
            cam=cam, ori_shape=(size, size), gt_mask=mask,
            gt_bboxes=np.array([[cx - 6, cy - 5, cx + 5, cy + 4]],
                               np.float32)))
    return samples


@pytest.fixture(scope='module')
def evaluated(tmp_path_factory):
    """Box and pixel metrics of two 'runs' evaluated on random maps, with
    their curves written to a folder."""
    out_dir = str(tmp_path_factory.mktemp('curves'))
    rng = np.random.default_rng(0)
    metrics, results = [], {}
    for prefix, power in (('cam', 1.0), ('fcam', 0.3)):
        samples = random_samples(rng)
        for sample in samples:
            sample['cam'] = sample['cam'] ** power
        for kind in (BoxLocalizationMetric, PixelLocalizationMetric):
            kwargs = dict(topk=()) if kind is BoxLocalizationMetric else {}
            metric = kind(eval_size=32, prefix=prefix, out_dir=out_dir,
                          **kwargs)
            metric.process(None, samples)
            results.update(metric.evaluate(len(samples)))
            metrics.append(metric)
    return metrics, results, out_dir


def line(ax, gid):
    found = [x for x in ax.get_children() if x.get_gid() == gid]
    assert len(found) == 1, gid
    return found[0]


def test_threshold_curve_is_the_metric_curve(evaluated):
    metrics, results, _ = evaluated
    runs = curves_from_metrics(metrics)
    assert list(runs) == ['cam', 'fcam']
    fig = plot_threshold_curves(runs)
    ax = fig.axes[0]
    for prefix in runs:
        box = next(m for m in metrics if m.prefix == prefix and
                   isinstance(m, BoxLocalizationMetric))
        curve = line(ax, f'{prefix}:accuracy')
        np.testing.assert_array_equal(curve.get_xdata(),
                                      box.curves['thresholds'])
        np.testing.assert_array_equal(curve.get_ydata(),
                                      box.curves['accuracy'])
        best = line(ax, f'{prefix}:best')
        assert best.get_xdata()[0] == results[f'{prefix}/best_tau']
        assert best.get_ydata()[0] == results[f'{prefix}/MaxBoxAcc']
    # the V2 curves too
    fig = plot_threshold_curves(runs, 'accuracy_V2@70')
    np.testing.assert_array_equal(
        line(fig.axes[0], 'cam:accuracy_V2@70').get_ydata(),
        runs['cam']['box']['accuracy_V2@70'])
    with pytest.raises(KeyError, match='no .accuracy_V2@90'):
        plot_threshold_curves(runs, 'accuracy_V2@90')


def test_pr_curve_is_the_metric_curve_where_defined(evaluated):
    metrics, results, _ = evaluated
    runs = curves_from_metrics(metrics)
    fig = plot_pr_curves(runs)
    for prefix, run in runs.items():
        pixel = run['pixel']
        pos, neg = pixel['pos_hist'], pixel['neg_hist']
        # brute force: a tau has predicted pixels when some score >= tau
        n_tau = len(pixel['thresholds'])
        defined = np.array([(pos[i:] + neg[i:]).sum() > 0
                            for i in range(n_tau)])
        # normalised maps reach 1 in every image: defined at every tau
        assert defined.all()
        pr = line(fig.axes[0], f'{prefix}:pr')
        np.testing.assert_array_equal(pr.get_xdata(),
                                      pixel['recall'][defined])
        np.testing.assert_array_equal(pr.get_ydata(),
                                      pixel['precision'][defined])
        assert f'PxAP {results[prefix + "/PxAP"]:.2f}' in pr.get_label()


def test_pr_curve_leaves_out_taus_without_predicted_pixels():
    # unnormalised maps in [0, 0.5]: nothing is predicted above tau 0.5,
    # where the metric's precision is 0 by convention, not a point
    rng = np.random.default_rng(2)
    samples = random_samples(rng, 3)
    for sample in samples:
        sample['cam'] = 0.5 * sample['cam'] / sample['cam'].max()
    metric = PixelLocalizationMetric(eval_size=32, normalize=False,
                                     prefix='raw')
    metric.process(None, samples)
    metric.evaluate(3)
    fig = plot_pr_curves(curves_from_metrics([metric]))
    pr = line(fig.axes[0], 'raw:pr')
    taus = metric.curves['thresholds']
    # bicubic resizing at the same size keeps the maximum: 0.5
    kept = taus <= 0.5
    assert len(pr.get_xdata()) == kept.sum() < len(taus)
    np.testing.assert_array_equal(pr.get_ydata(),
                                  metric.curves['precision'][kept])


def test_histograms_are_densities_of_the_metric_counts(evaluated):
    metrics, _, _ = evaluated
    runs = curves_from_metrics(metrics)
    hists = activation_histograms(runs['cam'])
    # the pixel metric's float scores are preferred when present
    assert hists['source'] == 'GT mask'
    pixel = runs['cam']['pixel']
    counts, edges = hists['all']
    assert counts.sum() == pixel['all_hist'].sum() == 6 * 32 * 32
    assert edges[0] == 0 and edges[-1] == 1 and len(edges) == 1001
    assert hists['object'][0].sum() == pixel['pos_hist'].sum()
    fig = plot_activation_histograms(runs, bins=50)
    ax_all, ax_split = fig.axes
    steps = line(ax_all, 'cam:all')
    values, step_edges = steps.get_data()[0], steps.get_data()[1]
    assert len(values) == 50
    np.testing.assert_allclose((values * np.diff(step_edges)).sum(), 1.0)
    # rebinning keeps every count: bin j sums fine bins 20j .. 20j + 19
    coarse, coarse_edges = rebin(counts, edges, 50)
    np.testing.assert_array_equal(coarse, counts.reshape(50, 20).sum(1))
    np.testing.assert_allclose(values, density(coarse, coarse_edges))
    line(ax_split, 'fcam:object')
    line(ax_split, 'fcam:background')


def test_box_only_runs_split_by_gt_boxes():
    rng = np.random.default_rng(3)
    samples = random_samples(rng, 3)
    metric = BoxLocalizationMetric(eval_size=32, topk=(), prefix='cam')
    metric.process(None, samples)
    metric.evaluate(3)
    runs = curves_from_metrics([metric])
    hists = activation_histograms(runs['cam'])
    assert hists['source'] == 'GT boxes'
    counts, edges = hists['all']
    # 255 bins [k/255, (k+1)/255); level 255 (s == 1) folded into the last
    assert len(counts) == 255 and edges[-1] == 1.0
    assert counts.sum() == 3 * 32 * 32
    assert counts[-1] == (metric.curves['quantized_hist'][254] +
                          metric.curves['quantized_hist'][255])
    assert (hists['object'][0] + hists['background'][0] == counts).all()
    figures = curve_figures(runs)
    assert list(figures) == ['threshold_curves', 'activation_histograms']


def test_npz_files_round_trip_and_summary(evaluated, tmp_path):
    metrics, results, out_dir = evaluated
    runs = load_curve_files([out_dir])
    assert list(runs) == ['cam', 'fcam']
    assert set(runs['cam']) == {'box', 'pixel'}
    for metric in metrics:
        kind = 'box' if isinstance(metric, BoxLocalizationMetric) else 'pixel'
        for key, value in metric.curves.items():
            np.testing.assert_array_equal(runs[metric.prefix][kind][key],
                                          value)
    table = summarize_runs(runs)
    for prefix in ('cam', 'fcam'):
        for key in ('MaxBoxAcc', 'best_tau', 'MaxBoxAccV2', 'PxAP'):
            assert table[prefix][key] == results[f'{prefix}/{key}'], key
    # the same prefix in two folders: labelled by folder
    import shutil
    other = tmp_path / 'exp2'
    shutil.copytree(out_dir, other)
    both = load_curve_files([out_dir, str(other)])
    assert 'exp2/cam' in both and len(both) == 4
    image = figure_to_array(curve_figures(runs)['pr_curves'])
    assert image.ndim == 3 and image.shape[2] == 3 and image.std() > 0


def test_loading_errors_name_the_path(tmp_path):
    with pytest.raises(FileNotFoundError, match='no such file'):
        load_curve_files([str(tmp_path / 'missing')])
    with pytest.raises(FileNotFoundError, match='--out-curves'):
        load_curve_files([str(tmp_path)])
    bad = tmp_path / 'x.npz'
    np.savez(bad, a=np.zeros(1))
    with pytest.raises(ValueError, match='not a curves file'):
        load_curve_files([str(bad)])
