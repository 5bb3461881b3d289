# The FSL baseline on the embedded synthetic data (CPU): TinyResNet + the
# F-CAM decoder trained on the validation split's masks, tested on the test
# split. The backbone starts from the ImageNet stand-in (fsl_tinyresnet.py),
# as the WSOL classifier does; another start:
#   --cfg-options model.backbone.init_cfg.checkpoint=CKPT
_base_ = [
    '../_base_/models/fsl_tinyresnet.py',
    '../_base_/datasets/synthetic_fsl.py',
    '../_base_/schedules/fsl_synthetic.py',
    '../_base_/fsl_runtime.py',
]
model = dict(data_preprocessor={{_base_.data_preprocessor}})
