# FSL schedule on CUB: 1,600 iterations (about 51 epochs of the 1,000-image
# validation split at batch 32, as F-CAM's 50 stage-2 epochs on CUB), poly
# lr decay to 0 by iteration.
# Iterations, not epochs, so that a cross-validation fold trains as many
# steps as the final run on the whole split; the lr decays to 0 because
# the last iterate is the model (no validation split to select on).
# Change the budget with BOTH keys (base variables are read once):
#   --cfg-options train_cfg.max_iters=N param_scheduler.0.end=N
_base_ = ['./fsl_sgd.py']
max_iters = 1600
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters)
param_scheduler = [
    dict(type='PolyLR', power=0.9, eta_min=0.0, by_epoch=False, begin=0,
         end=max_iters),
]
