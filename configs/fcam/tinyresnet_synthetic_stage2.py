# F-CAM stage 2 alone, from a given stage-1 classifier:
#   python tools/train.py configs/fcam/tinyresnet_synthetic_stage2.py \
#       --cfg-options custom_hooks.0.stage1_checkpoint=PATH_TO_STAGE1.pth
_base_ = ['./tinyresnet_synthetic.py']

train_cfg = dict(max_epochs={{_base_.stage2_epochs}})
param_scheduler = []
custom_hooks = [
    dict(type='FCAMStageHook', switch_epoch=0, stage2_lr=0.01,
         stage1_checkpoint=None),
    dict(type='LogBarrierHook', init_t=1.0, factor=1.01, max_t=10.0,
         start_epoch=0),
]
