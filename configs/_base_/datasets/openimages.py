# OpenImages30k of Choe et al. 2020 (docs/datasets.md):
#   data/OpenImages/<image paths of image_ids.txt>
#   data/OpenImages/<mask and ignore paths of localization.txt>
#   data/OpenImages/metadata/{train,val,test}/...
# Masks, not boxes: evaluated with PxAP.
_base_ = ['./cub.py']

dataset_type = 'OpenImagesDataset'
data_root = 'data/OpenImages/'
data_prefix = dict(img_path='', mask_path='')

train_dataloader = dict(
    dataset=dict(
        type=dataset_type, data_root=data_root, data_prefix=data_prefix,
        mask_file=None))
val_dataloader = dict(
    dataset=dict(
        type=dataset_type, data_root=data_root, data_prefix=data_prefix))
test_dataloader = dict(
    dataset=dict(
        type=dataset_type, data_root=data_root, data_prefix=data_prefix))

val_evaluator = [
    dict(type='PixelLocalizationMetric', map_key='cam', prefix='cam'),
    dict(type='ClassificationMetric', prefix='cls'),
]
test_evaluator = val_evaluator
# No boxes here: a leaf selects its model by PxAP on the validation split
# (default_hooks.checkpoint.save_best='cam/PxAP'; default_runtime.py owns
# default_hooks, so a dataset base cannot set it).
