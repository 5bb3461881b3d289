# F-CAM stage 2 alone on CUB-200-2011 with ResNet50, from a given stage-1
# classifier (only its backbone.* and head.* weights are read):
#   python tools/train.py configs/fcam/resnet50_cub_stage2.py \
#       --cfg-options custom_hooks.0.stage1_checkpoint=PATH_TO_STAGE1.pth
# Another CAM method guides the decoder with, e.g., model.cam.type=GradCAM.
_base_ = ['./resnet50_cub.py']
# The classifier comes from the checkpoint: no ImageNet weights to fetch.
model = dict(backbone=dict(init_cfg=None))
train_cfg = dict(max_epochs={{_base_.stage2_epochs}})
param_scheduler = []
custom_hooks = {{_base_.stage2_only_hooks}}
