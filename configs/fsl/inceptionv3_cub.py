# The FSL baseline on CUB-200-2011 (docs/fsl_baseline.md): the InceptionV3 WSOL
# backbone (ImageNet weights) + the F-CAM decoder, trained on the filled GT
# boxes of the validation split, tested on the test split. The lr comes from
# tools/analysis_tools/fsl_cross_validation.py on that split.
_base_ = [
    '../_base_/models/fsl_inceptionv3.py',
    '../_base_/datasets/cub_fsl.py',
    '../_base_/schedules/fsl_cub.py',
    '../_base_/fsl_runtime.py',
]
model = dict(data_preprocessor={{_base_.data_preprocessor}})
# The pretrained backbone learns at 1/10 of the new decoder's lr: the
# 10:1 ratio of new to pretrained layers of the stage-1 recipe.
optim_wrapper = dict(
    paramwise_cfg=dict(custom_keys={'backbone': dict(lr_mult=0.1)}))
