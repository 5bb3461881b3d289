# Stage 1 on the embedded synthetic data: VGG16 classifier (WSOL form,
# ImageNet init), plain CAM; the synthetic pipeline (128-px crops) and
# schedule. Slow on a CPU: the demo uses TinyResNet.
_base_ = [
    '../_base_/models/vgg16_cam.py',
    '../_base_/datasets/synthetic.py',
    '../_base_/schedules/synthetic_sgd.py',
    '../_base_/default_runtime.py',
]
model = dict(
    data_preprocessor={{_base_.data_preprocessor}},
    head=dict(num_classes=10))
# Pretrained weights want the wsolevaluation recipe's lr (Choe et al.:
# 0.0017, 10x on the head and on conv6), not the from-scratch
# TinyResNet's 0.05; the synthetic schedule's warm-up and cosine stay.
optim_wrapper = dict(
    optimizer=dict(lr=0.0017),
    paramwise_cfg=dict(custom_keys={
        'head': dict(lr_mult=10.0),
        'backbone.conv6': dict(lr_mult=10.0)
    }))
