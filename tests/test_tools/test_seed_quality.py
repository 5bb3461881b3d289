"""Seed quality: the sampling regions of a CAM measured against GT masks,
by hand and through tools/analysis_tools/seed_quality.py."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config

from fcam_mm.models.utils import sampling_regions
from fcam_mm.models.utils.seed_quality import (measure_seed_quality,
                                               region_purity_counts,
                                               summarize_purity)
from fcam_mm.visualization.localization_samples import build_split
from .tool_helpers import REPO, load_tool

CONFIG = f'{REPO}/configs/wsol/cam_tinyresnet_synthetic.py'


def test_counts_and_summary_by_hand():
    objects = torch.zeros(2, 4, 4, dtype=torch.bool)
    objects[0, :2, :2] = True                       # 4 object pixels
    objects[1, 1:, 1:] = True                       # 9
    positive = torch.zeros_like(objects)
    positive[0, 0, :3] = True                       # 2 of 3 on the object
    positive[1, 3, 3] = True                        # 1 of 1
    negative = torch.zeros_like(objects)
    negative[0, 3, :] = True                        # 0 of 4
    negative[1, 0, :] = True                        # 0 of 4 ...
    negative[1, 2, 2] = True                        # ... and 1 on it
    counts = region_purity_counts(positive, negative, objects)
    assert counts['pos'].tolist() == [3, 1]
    assert counts['pos_in'].tolist() == [2, 1]
    assert counts['neg'].tolist() == [4, 5]
    assert counts['neg_in'].tolist() == [0, 1]
    assert counts['obj'].tolist() == [4, 9]
    assert counts['pixels'].tolist() == [16, 16]        # 4×4 maps
    summary = summarize_purity(counts)
    assert summary['pos_precision'] == pytest.approx(3 / 4)
    assert summary['pos_coverage'] == pytest.approx(3 / 13)
    # per image: 2/4 and 1/9
    assert summary['pos_coverage_image_mean'] == pytest.approx(
        (2 / 4 + 1 / 9) / 2)
    assert summary['pos_coverage_image_median'] == pytest.approx(
        (2 / 4 + 1 / 9) / 2)
    assert summary['neg_error'] == pytest.approx(1 / 9)
    assert summary['neg_error_images'] == pytest.approx(0.5)
    assert summary['object_fraction'] == pytest.approx(13 / 32)
    with pytest.raises(ValueError, match='one shape'):
        region_purity_counts(positive, negative, objects[:, :3])


def input_frame(model, dataset, indices):
    """Inputs, GT-class CAMs resized bilinearly to the input and GT masks
    resized with nearest, for the images ``indices`` (eval mode)."""
    from mmengine.dataset import pseudo_collate
    data = model.data_preprocessor(
        pseudo_collate([dataset[i] for i in indices]), False)
    inputs, samples = data['inputs'], data['data_samples']
    with torch.no_grad():
        cams, _ = model.cam(model, inputs,
                            torch.cat([s.gt_label for s in samples]))
    size = inputs.shape[-2:]
    cams = F.interpolate(cams[:, None], size=size, mode='bilinear',
                         align_corners=False)[:, 0]
    objects = torch.stack([
        F.interpolate(torch.from_numpy(np.asarray(s.gt_mask) == 1)
                      .float()[None, None], size=size,
                      mode='nearest')[0, 0] > 0 for s in samples])
    return inputs, cams, objects


@pytest.fixture(scope='module')
def model_and_split(data_root):
    from fcam_mm.apis import init_localizer
    cfg = Config.fromfile(CONFIG)
    cfg.merge_from_dict({'model.head.num_classes': 3,
                         'val_dataloader.dataset.data_root': data_root})
    torch.manual_seed(0)
    model = init_localizer(cfg)  # random weights: any CAM will do
    return model, build_split(cfg, 'val')


def test_measure_matches_a_per_image_recount(model_and_split):
    """The split figures equal a recount done one image at a time."""
    model, dataset = model_and_split
    model.train()
    rows = measure_seed_quality(model, dataset, [0.1, 0.5], batch_size=4)
    assert model.training  # left in the mode it came in
    model.eval()
    for row, n_neg in zip(rows, (0.1, 0.5)):
        pos = pos_in = neg = neg_in = obj = pixels = 0
        for start in range(0, len(dataset), 4):
            # same batches and generator seeds as measure_seed_quality
            _, cams, objects = input_frame(
                model, dataset, range(start, min(start + 4, len(dataset))))
            p, n = sampling_regions(
                cams, n_neg=n_neg,
                generator=torch.Generator().manual_seed(start))
            for i, small in enumerate(objects):
                pos += int(p[i].sum())
                pos_in += int((p[i] & small).sum())
                neg += int(n[i].sum())
                neg_in += int((n[i] & small).sum())
                obj += int(small.sum())
                pixels += small.numel()
        assert row['n_neg'] == n_neg
        assert row['pos_precision'] == pytest.approx(pos_in / pos)
        assert row['pos_coverage'] == pytest.approx(pos_in / obj)
        assert row['neg_error'] == pytest.approx(neg_in / neg)
        assert row['object_fraction'] == pytest.approx(obj / pixels)
        # C⁻ holds ⌊n⁻·H·W⌋ pixels of every image
        assert neg == len(dataset) * int(n_neg * pixels / len(dataset))


def random_checkpoint(tmp_path):
    """A stage-1 checkpoint of random weights for the 3-class test data."""
    from fcam_mm.apis import init_localizer
    cfg = Config.fromfile(CONFIG)
    cfg.merge_from_dict({'model.head.num_classes': 3})
    checkpoint = str(tmp_path / 'random.pth')
    torch.save(dict(state_dict=init_localizer(cfg).state_dict()), checkpoint)
    return checkpoint


def test_tool_prints_the_table(data_root, tmp_path, capsys):
    checkpoint = random_checkpoint(tmp_path)
    rows = load_tool('analysis_tools/seed_quality.py').main([
        CONFIG, checkpoint, '--n-neg', '0.2', '--out',
        str(tmp_path / 'q.json'), '--cfg-options', 'model.head.num_classes=3',
        f'val_dataloader.dataset.data_root={data_root}'])
    out = capsys.readouterr().out
    assert '| 0.2 |' in out and len(rows) == 1
    assert 0 <= rows[0]['neg_error'] <= 1
    assert (tmp_path / 'q.json').exists()


def test_split_without_masks_is_refused(data_root):
    from fcam_mm.apis import init_localizer
    cfg = Config.fromfile(CONFIG)
    cfg.merge_from_dict({'model.head.num_classes': 3,
                         'val_dataloader.dataset.data_root': data_root,
                         'val_dataloader.dataset.mask_file': None})
    dataset = build_split(cfg, 'val')
    with pytest.raises(KeyError, match='mask_file'):
        measure_seed_quality(init_localizer(cfg), dataset, [0.1])


# -- the CRF's preference: R(object) vs R(C⁺) -------------------------------
def test_labelling_energy_is_the_weight_of_the_cut():
    """R of a hard labelling = Σ W_ij over ordered pairs with different
    labels, W the Gaussian kernel over (x, y, r, g, b), brute force."""
    from fcam_mm.models.losses import DenseCRFLoss
    from fcam_mm.models.utils.crf_preference import labelling_energy
    rng = np.random.default_rng(0)
    image = rng.uniform(0, 255, size=(3, 5, 6)).astype(np.float32)
    mask = rng.uniform(size=(5, 6)) < 0.4
    sigma_xy, sigma_rgb = 2.0, 40.0
    ys, xs = np.mgrid[0:5, 0:6]
    features = np.concatenate([
        np.stack([xs, ys], -1).reshape(-1, 2) / sigma_xy,
        image.reshape(3, -1).T / sigma_rgb], 1).astype(np.float64)
    squared = ((features[:, None] - features[None]) ** 2).sum(-1)
    kernel = np.exp(-0.5 * squared)
    labels = mask.reshape(-1)
    expected = kernel[labels[:, None] != labels[None]].sum()
    loss = DenseCRFLoss(sigma_xy=sigma_xy, sigma_rgb=sigma_rgb,
                        backend='exact', normalization='gaussian')
    energy = labelling_energy(loss, torch.from_numpy(mask)[None],
                              torch.from_numpy(image)[None])
    assert energy.shape == (1,)
    assert float(energy[0]) == pytest.approx(expected, rel=1e-5)
    # everything one label: no pair is cut
    assert float(labelling_energy(loss, torch.ones(1, 5, 6, dtype=bool),
                                  torch.from_numpy(image)[None])[0]) == \
        pytest.approx(0.0, abs=1e-4)


def test_summarize_preference_by_hand():
    from fcam_mm.models.utils.crf_preference import summarize_preference
    summary = summarize_preference([1.0, 2.0, 5.0, 3.0], [4.0, 2.0, 0.0, 1.0])
    assert summary['images'] == 4
    assert summary['prefers_object'] == pytest.approx(1 / 4)  # only 1 < 4
    # ratios 0.25, 1, inf, 3 -> median (1 + 3) / 2
    assert summary['median_ratio'] == pytest.approx(2.0)
    empty = summarize_preference([], [])
    assert empty['images'] == 0 and np.isnan(empty['prefers_object'])
    with pytest.raises(ValueError, match='one energy per image'):
        summarize_preference([1.0], [1.0, 2.0])


def test_crf_preference_matches_a_per_image_recount(model_and_split):
    from fcam_mm.models.losses import DenseCRFLoss
    from fcam_mm.models.utils.crf_preference import (labelling_energy,
                                                     measure_crf_preference,
                                                     raw_images)
    model, dataset = model_and_split
    losses = {'wide': DenseCRFLoss(sigma_xy=100.0),
              'local': DenseCRFLoss(sigma_xy=5.0, sigma_rgb=30.0)}
    model.train()
    rows = measure_crf_preference(model, dataset, losses, erode_kernel=3,
                                  batch_size=4)
    assert model.training
    model.eval()
    assert [r['name'] for r in rows] == ['wide', 'local']
    for row, loss in zip(rows, losses.values()):
        wins, compared = 0, 0
        for index in range(len(dataset)):  # one image at a time
            inputs, cams, small = input_frame(model, dataset, [index])
            region, _ = sampling_regions(cams, n_neg=0.1, erode_kernel=3)
            if not region.any():
                continue
            images = raw_images(model.data_preprocessor, inputs)
            assert images.min() >= -1e-3 and images.max() <= 255 + 1e-3
            r_object = float(labelling_energy(loss, small, images)[0])
            r_region = float(labelling_energy(loss, region, images)[0])
            wins += r_object < r_region
            compared += 1
        assert row['images'] == compared
        assert row['images_without_region'] == len(dataset) - compared
        assert row['prefers_object'] == pytest.approx(wins / compared)


def test_crf_preference_skips_constant_cams(model_and_split, monkeypatch):
    from fcam_mm.models.losses import DenseCRFLoss
    from fcam_mm.models.utils.crf_preference import measure_crf_preference
    model, dataset = model_and_split

    class ConstantCAM(torch.nn.Module):
        def forward(self, model, inputs, labels):
            return torch.ones(len(inputs), 4, 4), None

    monkeypatch.setattr(model, 'cam', ConstantCAM())
    [row] = measure_crf_preference(model, dataset, {'crf': DenseCRFLoss()})
    assert row['images'] == 0 and row['images_without_region'] == len(dataset)
    assert np.isnan(row['prefers_object'])


def test_tool_prints_the_crf_table(data_root, tmp_path, capsys):
    checkpoint = random_checkpoint(tmp_path)
    result = load_tool('analysis_tools/seed_quality.py').main([
        CONFIG, checkpoint, '--n-neg', '0.2', '--crf', '--crf-sigma-xy', '5',
        '100', '--out', str(tmp_path / 'q.json'), '--cfg-options',
        'model.head.num_classes=3',
        f'val_dataloader.dataset.data_root={data_root}'])
    out = capsys.readouterr().out
    assert '| σ_xy 5, σ_rgb 15, scale 1 |' in out
    assert '| σ_xy 100, σ_rgb 15, scale 1 |' in out
    assert len(result['crf']) == 2 and len(result['seeds']) == 1
    assert (tmp_path / 'q.json').exists()


def test_colour_overlap_by_hand():
    import torch

    from fcam_mm.models.utils.crf_preference import colour_overlap
    images = torch.zeros(2, 3, 4, 4)
    objects = torch.zeros(2, 4, 4, dtype=torch.bool)
    objects[:, :2, :2] = True
    images[0, :, :2, :2] = 100.0            # object colour (100, 100, 100)
    images[0, :, 3, :] = 110.0               # 4 background pixels at 17.3
    images[0, 0, 2, 0] = 100.0               # (100, 0, 0): 141 away
    # image 1: no background pixel near its object's colour
    images[1, :, :2, :2] = 200.0
    shares = colour_overlap(images, objects, distance=30.0)
    assert shares[0].item() == pytest.approx(4 / 12)
    assert shares[1].item() == 0.0
    # a boundary case: distance 17.3 < 110 - 100 scaled by sqrt(3)
    assert colour_overlap(images, objects, distance=17.0)[0].item() == 0.0
    empty = torch.zeros(1, 4, 4, dtype=torch.bool)
    assert torch.isnan(colour_overlap(images[:1], empty))[0]
