# Both F-CAM stages in one run on the synthetic demo data (CPU).
stage1_epochs = 12
stage2_epochs = 8

optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.05, momentum=0.9, weight_decay=1e-4))
# Stage-1 schedulers end at the switch; FCAMStageHook sets stage 2's lr.
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=True, begin=0, end=1,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', by_epoch=True, begin=0,
         end=stage1_epochs, T_max=stage1_epochs),
]
train_cfg = dict(
    type='EpochBasedTrainLoop',
    max_epochs=stage1_epochs + stage2_epochs,
    val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

custom_hooks = [
    dict(type='FCAMStageHook', switch_epoch=stage1_epochs, stage2_lr=0.01),
    dict(type='LogBarrierHook', init_t=1.0, factor=1.01, max_t=10.0,
         start_epoch=stage1_epochs),
]
