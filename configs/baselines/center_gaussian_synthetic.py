# The centre-Gaussian reference baseline (Choe et al., CVPR 2020; paper
# Table 1's "center Gaussian" row) on the embedded synthetic data: an
# isotropic Gaussian at the image centre, no training, no parameters.
#   python tools/test.py configs/baselines/center_gaussian_synthetic.py
# (no checkpoint). docs/baselines.md.
_base_ = [
    '../_base_/datasets/synthetic.py',
    '../_base_/default_runtime.py',
]

# sigma (a fraction of the image side) selected by MaxBoxAcc on the val
# split of the default synthetic data (make_synthetic.py data/synthetic:
# preset cub_like 1.0, seed 0, 12 classes; val MaxBoxAcc 46.67, V2 50.00,
# PxAP 64.70) by
#   python tools/analysis_tools/center_gaussian_sigma.py \
#       configs/baselines/center_gaussian_synthetic.py
# Re-run it (and update this value) whenever the data is regenerated.
model = dict(
    type='CenterGaussianLocalizer',
    sigma=0.2,
    data_preprocessor={{_base_.data_preprocessor}})

# Nothing to train; the test and val loops stay.
train_dataloader = None
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

# No classifier, so no class scores: GT-known box accuracy (topk=(): no
# top-1/top-5 localization, which needs a class prediction) and PxAP. The
# map travels as `cam`, like a CAM, so --out / --show-dir read it as one.
val_evaluator = [
    dict(type='BoxLocalizationMetric', map_key='cam', prefix='cam',
         topk=()),
    dict(type='PixelLocalizationMetric', map_key='cam', prefix='cam'),
]
test_evaluator = val_evaluator
