# The centre-Gaussian reference baseline (Choe et al., CVPR 2020) on
# CUB-200-2011: paper Table 1's "center Gaussian" row (59.7 MaxBoxAcc).
#   python tools/test.py configs/baselines/center_gaussian_cub.py
# (no checkpoint). docs/baselines.md.
_base_ = [
    '../_base_/datasets/cub.py',
    '../_base_/default_runtime.py',
]

# sigma is a fraction of the image side. 0.25 is a default, NOT selected on
# CUB: choose it on your CUB val split and put the value here,
#   python tools/analysis_tools/center_gaussian_sigma.py \
#       configs/baselines/center_gaussian_cub.py
# Why 0.25 meanwhile: the protocol's 255 box levels reach discs out to about
# 3.3 sigma from the centre (PxAP's 0.001 grid about 3.7 sigma), so from
# sigma ~0.21 on every disc up to the corners (0.71 of the side) can be
# reached; on the synthetic val split every sigma in [0.15, 2] gives the
# same box accuracies and PxAP within 0.05 (the value selected there is
# 0.25), while sigma 0.1 already loses 2.4 PxAP and 0.05 most boxes.
model = dict(
    type='CenterGaussianLocalizer',
    sigma=0.25,
    data_preprocessor={{_base_.data_preprocessor}})

# Nothing to train; the test and val loops stay.
train_dataloader = None
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

# Boxes only on CUB. No classifier: GT-known box accuracy, no top-k
# localization (topk=()).
val_evaluator = [
    dict(type='BoxLocalizationMetric', map_key='cam', prefix='cam',
         topk=()),
]
test_evaluator = val_evaluator
