"""The visual tools end to end on a tiny random F-CAM model and the small
synthetic split: tools/test.py --show-dir / --out-curves,
tools/analysis_tools/plot_curves.py, tools/visualization/vis_cam.py and the
TensorBoard backend."""
import glob
import os.path as osp
import pickle

import cv2
import mmcv
import numpy as np
import pytest
import torch

from .tool_helpers import REPO, load_tool, options

CONFIG = osp.join(REPO, 'configs', 'fcam', 'tinyresnet_synthetic.py')


def load_script(relative):
    from fcam_mm.utils import load_script as load
    return load(osp.join(REPO, relative))


@pytest.fixture(scope='module')
def random_checkpoint(tmp_path_factory):
    """An untrained F-CAM TinyResNet for 3 classes, saved as a checkpoint."""
    from fcam_mm.apis import init_localizer
    torch.manual_seed(0)
    model = init_localizer(CONFIG, None,
                           cfg_options={'model.head.num_classes': 3})
    path = str(tmp_path_factory.mktemp('ckpt') / 'random.pth')
    torch.save(dict(state_dict=model.state_dict(), meta={}), path)
    return path


@pytest.fixture(scope='module')
def test_run(data_root, random_checkpoint, tmp_path_factory):
    """One tools/test.py run with --show-dir, --out and --out-curves."""
    tmp = tmp_path_factory.mktemp('test_run')
    work_dir, out = str(tmp / 'work'), str(tmp / 'preds.pkl')
    curves = str(tmp / 'curves')
    metrics = load_tool('test.py').main(
        [CONFIG, random_checkpoint, '--work-dir', work_dir, '--show-dir',
         'vis', '--out', out, '--out-curves', curves] + options(data_root))
    with open(out, 'rb') as f:
        predictions = pickle.load(f)
    vis_dir = glob.glob(osp.join(work_dir, '*', 'vis'))
    assert len(vis_dir) == 1
    return dict(metrics=metrics, predictions=predictions, curves=curves,
                vis_dir=vis_dir[0])


def class_names(data_root):
    from mmengine.fileio import list_from_file
    return tuple(list_from_file(
        osp.join(data_root, 'metadata', 'class_names.txt')))


def test_show_dir_draws_at_the_tau_the_metrics_select(test_run, data_root):
    from fcam_mm.visualization import WSOLVisualizer
    from fcam_mm.visualization.localization_samples import output_name
    metrics, predictions = test_run['metrics'], test_run['predictions']
    overlays = sorted(glob.glob(osp.join(test_run['vis_dir'], '*.png')))
    assert len(overlays) == len(predictions) == 9
    # the same picture, drawn again from the dumped prediction at the
    # test metrics' best_tau of each map, pixel for pixel
    taus = {'cam': metrics['cam/best_tau'], 'fcam': metrics['fcam/best_tau']}
    visualizer = WSOLVisualizer(name='test-vis-tools')
    visualizer.dataset_meta = dict(classes=class_names(data_root))
    for pred in predictions[:3]:
        image = mmcv.imread(pred['img_path'], channel_order='rgb')
        expected = visualizer.draw_panels(image, pred, ('cam', 'fcam'),
                                          taus)
        drawn = cv2.imread(osp.join(test_run['vis_dir'],
                                    output_name(pred)))[..., ::-1]
        height, width = pred['ori_shape']
        assert drawn.shape == (2 * height, 2 * width, 3)
        np.testing.assert_array_equal(drawn, expected)
    curves = sorted(osp.basename(p) for p in glob.glob(
        osp.join(test_run['vis_dir'], 'curves', '*.png')))
    assert curves == ['activation_histograms.png', 'pr_curves.png',
                      'threshold_curves.png']


def test_out_curves_then_plot_curves(test_run, tmp_path):
    files = sorted(osp.basename(p)
                   for p in glob.glob(osp.join(test_run['curves'], '*')))
    assert files == ['cam_box_curves.npz', 'cam_pixel_curves.npz',
                     'fcam_box_curves.npz', 'fcam_pixel_curves.npz']
    box = np.load(osp.join(test_run['curves'], 'fcam_box_curves.npz'))
    assert box['accuracy'].max() == test_run['metrics']['fcam/MaxBoxAcc']
    out_dir = str(tmp_path / 'figures')
    written = load_script('tools/analysis_tools/plot_curves.py').main(
        [test_run['curves'], '--out-dir', out_dir, '--rename', 'cam=CAM',
         'fcam=F-CAM'])
    assert sorted(osp.basename(p) for p in written) == [
        'activation_histograms.png', 'pr_curves.png', 'threshold_curves.png']
    for path in written:
        image = cv2.imread(path)
        assert image is not None and image.shape[0] > 300
    with pytest.raises(SystemExit, match='no run named'):
        load_script('tools/analysis_tools/plot_curves.py').main(
            [test_run['curves'], '--out-dir', out_dir, '--rename', 'x=y'])


def test_vis_cam_on_the_split_with_tau_from_val(data_root, random_checkpoint,
                                                tmp_path, capsys):
    from fcam_mm.apis import init_localizer
    from fcam_mm.visualization import select_thresholds
    out_dir = str(tmp_path / 'vis')
    written = load_script('tools/visualization/vis_cam.py').main(
        [CONFIG, random_checkpoint, '--num', '3', '--out-dir', out_dir] +
        options(data_root))
    assert len(written) == 3
    cfg_options = {'model.head.num_classes': 3}
    for split in ('val', 'test'):
        cfg_options[f'{split}_dataloader.dataset.data_root'] = data_root
    model = init_localizer(CONFIG, random_checkpoint,
                           cfg_options=cfg_options)
    taus = select_thresholds(model, model.cfg, ('cam', 'fcam'),
                             progress=False)
    # the first, middle and last test images, drawn at the val split's tau
    from fcam_mm.visualization import WSOLVisualizer
    from fcam_mm.visualization.localization_samples import (build_split,
                                                            predict_split)
    dataset = build_split(model.cfg, 'test')
    samples = list(predict_split(model, dataset, [0, 4, 8]))
    visualizer = WSOLVisualizer(name='test-vis-cam-check')
    visualizer.dataset_meta = dataset.metainfo
    for sample, path in zip(samples, written):
        image = mmcv.imread(sample.img_path, channel_order='rgb')
        expected = visualizer.draw_panels(image, sample, ('cam', 'fcam'),
                                          taus)
        np.testing.assert_array_equal(cv2.imread(path)[..., ::-1], expected)


def test_vis_cam_plain_images_and_mask_style(data_root, random_checkpoint,
                                             tmp_path):
    tool = load_script('tools/visualization/vis_cam.py')
    folder = osp.join(data_root, 'images', 'test', '01')
    written = tool.main(
        [CONFIG, random_checkpoint, '--images', folder, '--threshold', '0.4',
         '--map-keys', 'fcam', '--out-dir', str(tmp_path / 'plain')] +
        options(data_root))
    assert len(written) == len(glob.glob(osp.join(folder, '*.jpg'))) == 3
    image = cv2.imread(glob.glob(osp.join(folder, '*.jpg'))[0])
    drawn = cv2.imread(written[0])
    assert drawn.shape == (image.shape[0], 2 * image.shape[1], 3)
    # mask style on the split: TP / FP / FN tints, fixed tau
    written = tool.main(
        [CONFIG, random_checkpoint, '--indices', '1', '--style', 'mask',
         '--threshold', '0.5', '--out-dir', str(tmp_path / 'mask')] +
        options(data_root))
    assert len(written) == 1
    # no ground truth: the mask style is refused with a clear error
    with pytest.raises(KeyError, match='needs a GT mask'):
        tool.main([CONFIG, random_checkpoint, '--images', folder,
                   '--threshold', '0.5', '--style', 'mask', '--out-dir',
                   str(tmp_path / 'x')] + options(data_root))


def test_vis_cam_without_val_data_asks_for_a_threshold(random_checkpoint,
                                                       data_root, tmp_path):
    tool = load_script('tools/visualization/vis_cam.py')
    folder = osp.join(data_root, 'images', 'test', '02')
    opts = options(str(tmp_path / 'nowhere'))
    with pytest.raises(SystemExit, match='pass --threshold'):
        tool.main([CONFIG, random_checkpoint, '--images', folder,
                   '--out-dir', str(tmp_path / 'x')] + opts)


def test_tensorboard_backend_from_a_leaf_config(data_root, random_checkpoint,
                                                tmp_path):
    pytest.importorskip('tensorboard')
    from tensorboard.backend.event_processing.event_accumulator import \
        EventAccumulator
    leaf = tmp_path / 'tensorboard_leaf.py'
    # the snippet of docs/visualization.md
    leaf.write_text(
        f"_base_ = [{CONFIG!r}]\n"
        "visualizer = dict(vis_backends=[dict(type='LocalVisBackend'),\n"
        "                                dict(type='TensorboardVisBackend')])\n")
    work_dir = str(tmp_path / 'work')
    # mmengine names a runner's visualizer after the run's timestamp and
    # reuses an instance of that name: another run of this process in the
    # same second would hand over its backends
    load_tool('test.py').main(
        [str(leaf), random_checkpoint, '--work-dir', work_dir] +
        options(data_root, 2, f'visualizer.name=tensorboard-{id(leaf)}',
                'default_hooks.visualization.enable=True',
                'default_hooks.visualization.threshold=0.5',
                'default_hooks.visualization.interval=4'))
    events = glob.glob(osp.join(work_dir, '*', 'vis_data',
                                'events.out.tfevents.*'))
    assert len(events) == 1
    accumulator = EventAccumulator(events[0], size_guidance={'images': 0})
    accumulator.Reload()
    tags = set(accumulator.Tags()['images'])
    # 9 test images, every 4th: images 1, 5, 9; and the three curve figures
    assert {'threshold_curves', 'pr_curves',
            'activation_histograms'} <= tags
    overlays = tags - {'threshold_curves', 'pr_curves',
                       'activation_histograms'}
    assert len(overlays) == 3
    image = accumulator.Images(sorted(overlays)[0])[0]
    decoded = cv2.imdecode(np.frombuffer(image.encoded_image_string,
                                         np.uint8), cv2.IMREAD_COLOR)
    assert decoded.shape[:2] == (image.height, image.width)
    assert image.width % 2 == 0  # two panels side by side


def test_expand_image_paths_lists_like_infer_and_counts_skips(tmp_path):
    """Folders and globs are listed as tools/infer.py lists them; files
    without an image extension are skipped and the skip is logged."""
    import logging

    from mmengine.logging import MMLogger

    from fcam_mm.visualization.localization_samples import expand_image_paths
    (tmp_path / 'sub').mkdir()
    for name in ('b.png', 'a.JPG', 'notes.txt', 'sub/c.jpeg', '.hidden.png'):
        (tmp_path / name).write_bytes(b'x')
    logger = MMLogger.get_instance('expand-test')
    records = []
    handler = logging.Handler()
    handler.emit = records.append
    logger.addHandler(handler)
    try:
        files = expand_image_paths([str(tmp_path)])
    finally:
        logger.removeHandler(handler)
    assert files == [str(tmp_path / n) for n in ('a.JPG', 'b.png',
                                                   'sub/c.jpeg')]
    assert any('skipped 1 file(s)' in r.getMessage() for r in records)
    assert expand_image_paths([str(tmp_path / '*.png')]) == [
        str(tmp_path / 'b.png')]
    single = str(tmp_path / 'notes.txt')  # named explicitly: taken as is
    assert expand_image_paths([single]) == [single]
