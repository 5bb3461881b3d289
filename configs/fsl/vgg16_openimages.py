# The FSL baseline on OpenImages30k (docs/fsl_baseline.md): the VGG16 WSOL
# backbone (ImageNet weights) + the F-CAM decoder, trained on the GT masks of
# the validation split, tested on the test split. The lr comes from
# tools/analysis_tools/fsl_cross_validation.py on that split.
_base_ = [
    '../_base_/models/fsl_vgg16.py',
    '../_base_/datasets/openimages_fsl.py',
    '../_base_/schedules/fsl_openimages.py',
    '../_base_/fsl_runtime.py',
]
model = dict(data_preprocessor={{_base_.data_preprocessor}})
# The pretrained backbone learns at 1/10 of the new decoder's lr: the
# 10:1 ratio of new to pretrained layers of the stage-1 recipe.
optim_wrapper = dict(
    paramwise_cfg=dict(custom_keys={'backbone': dict(lr_mult=0.1)}))
