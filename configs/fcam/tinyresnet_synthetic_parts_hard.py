# F-CAM on the first embedded benchmark, the parts_hard preset (10 classes,
# backbone trained from scratch), as the demo ran until the cub_like preset
# replaced it; docs/results.md keeps its numbers. Data:
#   python tools/dataset_converters/make_synthetic.py \
#       data/synthetic_parts_hard --preset parts_hard
_base_ = ['./tinyresnet_synthetic.py']
data_root = 'data/synthetic_parts_hard/'
model = dict(
    backbone=dict(init_cfg=None),
    head=dict(num_classes=10),
    seed_cfg=dict(n_neg=0.1))
train_dataloader = dict(dataset=dict(data_root=data_root))
val_dataloader = dict(dataset=dict(data_root=data_root))
test_dataloader = dict(dataset=dict(data_root=data_root))
