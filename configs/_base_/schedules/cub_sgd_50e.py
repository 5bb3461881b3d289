# Stage-1 recipe of Choe et al. 2020 / F-CAM on CUB (DESIGN.md section 5):
# SGD, batch 32, 50 epochs, lr x0.1 every 15 epochs, 10x lr on the head.
optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.0017, momentum=0.9, weight_decay=1e-4),
    paramwise_cfg=dict(custom_keys={'head': dict(lr_mult=10.0)}))
param_scheduler = dict(type='StepLR', by_epoch=True, step_size=15, gamma=0.1)
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=50, val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
auto_scale_lr = dict(base_batch_size=32)
