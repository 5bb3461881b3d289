# Stage 1 on the embedded synthetic data: TinyResNet classifier, plain CAM.
_base_ = [
    '../_base_/models/tiny_resnet_cam.py',
    '../_base_/datasets/synthetic.py',
    '../_base_/schedules/synthetic_sgd.py',
    '../_base_/default_runtime.py',
]
model = dict(data_preprocessor={{_base_.data_preprocessor}})
