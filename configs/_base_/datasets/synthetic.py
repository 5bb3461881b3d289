# The embedded synthetic WSOL dataset (tools/dataset_converters/
# make_synthetic.py data/synthetic): boxes AND masks, 10 classes.
dataset_type = 'WSOLDataset'
data_root = 'data/synthetic/'
classes = 'metadata/class_names.txt'
data_prefix = dict(img_path='images', mask_path='masks')
# Small images keep CPU training to minutes; the metrics still evaluate at
# the protocol's 224x224.
crop_size = 128

data_preprocessor = dict(
    type='ImgDataPreprocessor',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    bgr_to_rgb=True)

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(144, 144), keep_ratio=False),
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackWSOLInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadWSOLAnnotations'),
    dict(type='Resize', scale=(crop_size, crop_size), keep_ratio=False),
    dict(type='PackWSOLInputs'),
]

train_dataloader = dict(
    batch_size=32,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='metadata/train',
        box_file=None,
        classes=classes,
        data_prefix=data_prefix,
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=32,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='metadata/val',
        box_file='localization.txt',
        mask_file='localization_mask.txt',
        classes=classes,
        data_prefix=data_prefix,
        test_mode=True,
        pipeline=test_pipeline))
# The test split differs from val only in its metadata folder.
test_dataloader = dict(
    val_dataloader,
    dataset=dict(val_dataloader['dataset'], ann_file='metadata/test'))

# The classifier's CAM ('cam' in the predictions) with both localization
# metrics, and classification accuracy.
val_evaluator = [
    dict(type='BoxLocalizationMetric', map_key='cam', prefix='cam'),
    dict(type='PixelLocalizationMetric', map_key='cam', prefix='cam'),
    dict(type='ClassificationMetric', prefix='cls'),
]
test_evaluator = val_evaluator
