# ImageNet-1k in the wsolevaluation layout (docs/datasets.md):
#   data/ILSVRC/{train,val}/... images, data/ILSVRC/metadata/{train,val,test}
# (their "val" is ImageNetV2, their "test" the official validation images).
_base_ = ['./cub.py']

dataset_type = 'ILSVRCDataset'
data_root = 'data/ILSVRC/'
data_prefix = dict(img_path='')

train_dataloader = dict(
    dataset=dict(
        type=dataset_type, data_root=data_root, data_prefix=data_prefix))
val_dataloader = dict(
    dataset=dict(
        type=dataset_type, data_root=data_root, data_prefix=data_prefix))
test_dataloader = dict(
    dataset=dict(
        type=dataset_type, data_root=data_root, data_prefix=data_prefix))
