# F-CAM on OpenImages30k: InceptionV3 classifier with the plain CAM (stage 1),
# then the decoder guided by its CAM (stage 2), both stages in one run.
_base_ = [
    '../_base_/models/fcam_inceptionv3.py',
    '../_base_/datasets/openimages_fcam.py',
    '../_base_/schedules/fcam_openimages.py',
    '../_base_/default_runtime.py',
]
# n⁻ small on OpenImages: large objects, little background (Fig. D.2).
model = dict(
    data_preprocessor={{_base_.data_preprocessor}},
    head=dict(num_classes=100),
    seed_cfg=dict(n_neg=0.1))
# Stage 1 as configs/wsol/cam_inceptionv3_openimages.py:
# 10x lr on the head (schedule) and on the SPG_A3 convs.
optim_wrapper = dict(
    paramwise_cfg=dict(custom_keys={'backbone.SPG_A3': dict(lr_mult=10.0)}))

# Stage 1 selects the classifier by its CAM, stage 2 the decoder by F-CAM.
default_hooks = dict(checkpoint=dict(save_best=['cam/PxAP', 'fcam/PxAP']))
