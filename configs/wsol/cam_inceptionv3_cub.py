# Stage 1 on CUB-200-2011: InceptionV3 classifier (WSOL form), plain CAM.
_base_ = [
    '../_base_/models/inceptionv3_cam.py',
    '../_base_/datasets/cub.py',
    '../_base_/schedules/cub_sgd_50e.py',
    '../_base_/default_runtime.py',
]
model = dict(
    data_preprocessor={{_base_.data_preprocessor}},
    head=dict(num_classes=200))
# As in wsolevaluation (Choe et al.): 10x lr on the head (schedule) and
# on the SPG_A3 convs.
optim_wrapper = dict(
    paramwise_cfg=dict(custom_keys={'backbone.SPG_A3': dict(lr_mult=10.0)}))
