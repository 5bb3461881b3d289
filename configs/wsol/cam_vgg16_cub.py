# Stage 1 on CUB-200-2011: VGG16 classifier (WSOL form), plain CAM.
_base_ = [
    '../_base_/models/vgg16_cam.py',
    '../_base_/datasets/cub.py',
    '../_base_/schedules/cub_sgd_50e.py',
    '../_base_/default_runtime.py',
]
model = dict(
    data_preprocessor={{_base_.data_preprocessor}},
    head=dict(num_classes=200))
# As in wsolevaluation (Choe et al.): 10x lr on the head (schedule) and
# on conv6.
optim_wrapper = dict(
    paramwise_cfg=dict(custom_keys={'backbone.conv6': dict(lr_mult=10.0)}))
