# FSL schedule on the synthetic demo data (CPU): 300 iterations (about 96
# epochs of the 100-image validation split at batch 32), poly lr decay to 0
# by iteration. The from-scratch TinyResNet takes the demo's stage-1 lr
# range; cross-validation picks among candidates (docs/fsl_baseline.md).
# Iterations, not epochs, so that a cross-validation fold trains as many
# steps as the final run on the whole split; the lr decays to 0 because
# the last iterate is the model (no validation split to select on).
# Change the budget with BOTH keys (base variables are read once):
#   --cfg-options train_cfg.max_iters=N param_scheduler.0.end=N
_base_ = ['./fsl_sgd.py']
max_iters = 300
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters)
param_scheduler = [
    dict(type='PolyLR', power=0.9, eta_min=0.0, by_epoch=False, begin=0,
         end=max_iters),
]
