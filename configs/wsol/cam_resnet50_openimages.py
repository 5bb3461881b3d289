# Stage 1 on OpenImages30k: ResNet50 classifier (WSOL form), plain CAM.
_base_ = [
    '../_base_/models/resnet50_cam.py',
    '../_base_/datasets/openimages.py',
    '../_base_/schedules/openimages_sgd_10e.py',
    '../_base_/default_runtime.py',
]
model = dict(
    data_preprocessor={{_base_.data_preprocessor}},
    head=dict(num_classes=100))
# As in wsolevaluation (Choe et al.): 10x lr on the head (schedule) and
# on layer4.
optim_wrapper = dict(
    paramwise_cfg=dict(custom_keys={'backbone.layer4': dict(lr_mult=10.0)}))

# Masks, not boxes: model selection by PxAP on the validation split.
default_hooks = dict(checkpoint=dict(save_best='cam/PxAP'))
