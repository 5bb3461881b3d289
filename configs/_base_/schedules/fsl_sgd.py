# The FSL segmenter's optimiser (docs/fsl_baseline.md): SGD, momentum 0.9,
# weight decay 1e-4, lr 0.01 (F-CAM's stage-2 decoder lr; the lr is a
# hyper-parameter of the baseline, chosen by K-fold cross-validation inside
# the training split with tools/analysis_tools/fsl_cross_validation.py).
# The schedules fsl_{cub,openimages,synthetic}.py add the iteration budget.
optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=1e-4))
# No validation loop: the split with full labels is the training data.
val_cfg = None
test_cfg = dict(type='TestLoop')
auto_scale_lr = dict(base_batch_size=32)
