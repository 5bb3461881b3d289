# Stage-1 recipe on OpenImages30k (Choe et al. 2020): SGD, batch 32,
# 10 epochs, lr x0.1 every 3 epochs, 10x lr on the classifier layers (the
# head here; the leaf configs add each backbone's new layers, as
# wsolevaluation does). The base lr is the CUB one of F-CAM's recipe: the
# paper gives no OpenImages value, tune it on the validation split.
optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.0017, momentum=0.9, weight_decay=1e-4),
    paramwise_cfg=dict(custom_keys={'head': dict(lr_mult=10.0)}))
param_scheduler = dict(type='StepLR', by_epoch=True, step_size=3, gamma=0.1)
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=10, val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
auto_scale_lr = dict(base_batch_size=32)
