# Diagnostic (docs/fsl_baseline.md): the F-CAM decoder trained with full
# masks on the FROZEN backbone of a stage-1 WSOL classifier — the ceiling
# that F-CAM's stage 2, which trains the same decoder on the same features
# from CAM seeds, can reach. Trained on the TRAIN split's masks (the split
# stage 2 trains on), with stage 2's budget (fcam_synthetic.py: 8 epochs,
# SGD lr 0.01, constant), selected on val, tested on test:
#   python tools/train.py configs/fsl/tinyresnet_synthetic_frozen_stage1.py \
#       --cfg-options model.backbone.init_cfg.checkpoint=STAGE1.pth
_base_ = [
    '../_base_/models/fsl_tinyresnet.py',
    '../_base_/datasets/synthetic.py',
    '../_base_/default_runtime.py',
]
model = dict(
    data_preprocessor={{_base_.data_preprocessor}},
    # parameters and BatchNorm statistics fixed; the checkpoint (its
    # 'backbone.' keys) is required
    freeze_backbone=True)

# synthetic.py's training pipeline plus the mask as the per-pixel target
train_dataloader = dict(
    dataset=dict(
        mask_file='localization_mask.txt',
        pipeline=[
            dict(type='LoadImageFromFile'),
            dict(type='LoadWSOLAnnotations', seg_target='mask'),
            dict(type='Resize', scale=(144, 144), keep_ratio=False),
            dict(type='RandomCrop', crop_size={{_base_.crop_size}}),
            dict(type='RandomFlip', prob=0.5, direction='horizontal'),
            dict(type='PackWSOLInputs'),
        ]))
# No classifier: the localization metrics of the decoder's map only.
val_evaluator = [
    dict(type='BoxLocalizationMetric', map_key='fcam', prefix='fsl',
         topk=()),
    dict(type='PixelLocalizationMetric', map_key='fcam', prefix='fsl'),
]
test_evaluator = val_evaluator

optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=1e-4))
param_scheduler = []
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=8, val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

default_hooks = dict(
    checkpoint=dict(save_best='fsl/MaxBoxAcc'),
    visualization=dict(map_keys=('fcam', )))
