# The stand-in for ImageNet pre-training of the CPU backbone: a TinyResNet
# classifier on the `objects` synthetic preset (6 kinds x 6 colours of
# whole objects in natural scenes; docs/synthetic_dataset.md). Its
# backbone initialises the synthetic demo's classifier, as torchvision://
# weights initialise the real configs'. Data:
#   python tools/dataset_converters/make_synthetic.py data/synthetic_objects \
#       --preset objects --seed 1000 --num-classes 36 \
#       --train-per-class 150 --val-per-class 10 --test-per-class 10
_base_ = [
    '../_base_/models/tiny_resnet_cam.py',
    '../_base_/datasets/synthetic.py',
    '../_base_/schedules/synthetic_sgd.py',
    '../_base_/default_runtime.py',
]
data_root = 'data/synthetic_objects/'
epochs = 30
model = dict(
    backbone=dict(init_cfg=None),  # from scratch: this is the pre-training
    head=dict(num_classes=36),
    data_preprocessor={{_base_.data_preprocessor}})
train_dataloader = dict(dataset=dict(data_root=data_root))
val_dataloader = dict(dataset=dict(data_root=data_root))
test_dataloader = dict(dataset=dict(data_root=data_root))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=True, begin=0, end=1,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', by_epoch=True, begin=0, end=epochs,
         T_max=epochs),
]
train_cfg = dict(max_epochs=epochs, val_interval=2)
# pre-training is selected by classification, as ImageNet weights are
val_evaluator = [dict(type='ClassificationMetric', prefix='cls')]
test_evaluator = val_evaluator
default_hooks = dict(checkpoint=dict(save_best='cls/top1'))
