# OpenImages30k for the FSL baseline (docs/fsl_baseline.md): a segmenter is
# trained on the full annotations of the validation split (Choe et al.'s
# "train-fullsup") and tested on the test split. The per-pixel target is
# the GT mask (instances OR-ed; the ignore regions stay 255, out of the
# loss), moved by the same resize / crop / flip as the image.
_base_ = ['./openimages.py']

fsl_train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadWSOLAnnotations', seg_target='mask'),
    dict(type='Resize', scale=(256, 256), keep_ratio=False),
    dict(type='RandomCrop', crop_size=224),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackWSOLInputs'),
]
train_dataloader = dict(
    # iteration-based schedule (schedules/fsl_*.py)
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        ann_file='metadata/val',
        mask_file='localization.txt',
        pipeline=fsl_train_pipeline))
# The validation split is the training data: no validation loop (the last
# iterate is the model; its hyper-parameters come from cross-validation
# inside the split, tools/analysis_tools/fsl_cross_validation.py).
val_dataloader = None
val_evaluator = None
# No classifier: PxAP of the segmenter's map only.
test_evaluator = [
    dict(type='PixelLocalizationMetric', map_key='fcam', prefix='fsl'),
]
