# Stage-1 WSOL classifier: ResNet50 (layer3/layer4 at stride 1, 28x28 top
# map for 224x224 inputs) + GAP head, plain CAM. ImageNet weights from
# torchvision; the leaf config sets num_classes and the data preprocessor.
model = dict(
    type='WSOLLocalizer',
    backbone=dict(
        type='ResNet50WSOL',
        init_cfg=dict(type='Pretrained',
                      checkpoint='torchvision://resnet50')),
    head=dict(type='GAPClsHead', num_classes=1000, in_channels=2048),
    cam=dict(type='CAM'),
)
