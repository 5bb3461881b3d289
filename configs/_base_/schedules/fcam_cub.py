# F-CAM's two stages on CUB in one run (DESIGN.md section 5):
#   epochs [0, 50):   stage 1, the classifier: the recipe of cub_sgd_50e.py
#                     (SGD lr 0.0017, x0.1 every 15 epochs, 10x on the
#                     head), selected by the CAM's MaxBoxAcc on val;
#   epochs [50, 100): stage 2, the decoder on the frozen selected
#                     classifier: SGD lr 0.01, constant; log-barrier t from
#                     1, x1.01 per epoch, at most 10; selected by the F-CAM
#                     map's MaxBoxAcc on val.
_base_ = ['./cub_sgd_50e.py']
stage1_epochs = 50
stage2_epochs = 50
stage1_key = 'cam/MaxBoxAcc'
stage2_key = 'fcam/MaxBoxAcc'

# The stage-1 scheduler ends at the switch; FCAMStageHook sets stage 2's lr.
param_scheduler = dict(end=stage1_epochs)
train_cfg = dict(max_epochs=stage1_epochs + stage2_epochs)
custom_hooks = [
    dict(type='FCAMStageHook', switch_epoch=stage1_epochs, stage2_lr=0.01,
         stage1_key=stage1_key, stage2_key=stage2_key),
    dict(type='LogBarrierHook', init_t=1.0, factor=1.01, max_t=10.0,
         start_epoch=stage1_epochs),
]
# Stage 2 alone from a given classifier (the *_stage2.py leaves): stage 2
# from epoch 0, stage2_epochs long, no stage-1 scheduler.
stage2_only_hooks = [
    dict(type='FCAMStageHook', switch_epoch=0, stage2_lr=0.01,
         stage1_checkpoint=None, stage1_key=stage1_key,
         stage2_key=stage2_key),
    dict(type='LogBarrierHook', init_t=1.0, factor=1.01, max_t=10.0,
         start_epoch=0),
]
