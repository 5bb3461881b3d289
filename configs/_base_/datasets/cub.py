# CUB-200-2011 in the wsolevaluation layout (docs/datasets.md):
#   data/CUB/images/<class folder>/<image>.jpg
#   data/CUB/metadata/{train,val,test}/{image_ids,class_labels,image_sizes,
#                                       localization}.txt
dataset_type = 'CUBDataset'
data_root = 'data/CUB/'
data_prefix = dict(img_path='images')

data_preprocessor = dict(
    type='ImgDataPreprocessor',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    bgr_to_rgb=True)

# Choe et al. 2020: resize to 256x256, random 224 crop, flip; test: 224x224.
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(256, 256), keep_ratio=False),
    dict(type='RandomCrop', crop_size=224),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackWSOLInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadWSOLAnnotations'),
    dict(type='Resize', scale=(224, 224), keep_ratio=False),
    dict(type='PackWSOLInputs'),
]

train_dataloader = dict(
    batch_size=32,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='metadata/train',
        box_file=None,
        data_prefix=data_prefix,
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=32,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='metadata/val',
        data_prefix=data_prefix,
        test_mode=True,
        pipeline=test_pipeline))
# The test split differs from val only in its metadata folder.
test_dataloader = dict(
    val_dataloader,
    dataset=dict(val_dataloader['dataset'], ann_file='metadata/test'))

val_evaluator = [
    dict(type='BoxLocalizationMetric', map_key='cam', prefix='cam'),
    dict(type='ClassificationMetric', prefix='cls'),
]
test_evaluator = val_evaluator
