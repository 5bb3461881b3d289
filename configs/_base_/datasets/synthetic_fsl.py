# The synthetic data for the FSL baseline (docs/fsl_baseline.md): a
# segmenter is trained on the full annotations of the validation split
# (Choe et al.'s "train-fullsup") and tested on the test split. The data has
# masks and boxes; the target is the GT mask (its ignore band stays 255, out
# of the loss), moved by the same resize / crop / flip as the image. Both
# metrics are evaluated.
_base_ = ['./synthetic.py']

fsl_train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadWSOLAnnotations', seg_target='mask'),
    dict(type='Resize', scale=(144, 144), keep_ratio=False),
    dict(type='RandomCrop', crop_size={{_base_.crop_size}}),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackWSOLInputs'),
]
train_dataloader = dict(
    # 100 images: batch 8 gives 12 steps per epoch (and fast CPU steps)
    batch_size=8,
    # iteration-based schedule (schedules/fsl_*.py)
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        ann_file='metadata/val',
        box_file='localization.txt',
        mask_file='localization_mask.txt',
        pipeline=fsl_train_pipeline))
# The validation split is the training data: no validation loop (the last
# iterate is the model; its hyper-parameters come from cross-validation
# inside the split, tools/analysis_tools/fsl_cross_validation.py).
val_dataloader = None
val_evaluator = None
# No classifier: the localization metrics of the segmenter's map only
# (MaxBoxAcc is GT-known localization; no top-k localization).
test_evaluator = [
    dict(type='BoxLocalizationMetric', map_key='fcam', prefix='fsl',
         topk=()),
    dict(type='PixelLocalizationMetric', map_key='fcam', prefix='fsl'),
]
