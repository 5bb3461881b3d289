# Stage 1 on the embedded synthetic data: VGG16 classifier (WSOL form,
# ImageNet init), plain CAM; the synthetic pipeline (128-px crops) and
# schedule. Slow on a CPU: the demo uses TinyResNet.
_base_ = [
    '../_base_/models/vgg16_cam.py',
    '../_base_/datasets/synthetic.py',
    '../_base_/schedules/synthetic_sgd_pretrained.py',
    '../_base_/default_runtime.py',
]
model = dict(
    data_preprocessor={{_base_.data_preprocessor}},
    head=dict(num_classes=12))
# 10x lr on conv6 as well (the schedule has the head's).
optim_wrapper = dict(
    paramwise_cfg=dict(custom_keys={'backbone.conv6': dict(lr_mult=10.0)}))
