# Stage-1 WSOL classifier for CPU: TinyResNet + GAP head, plain CAM.
model = dict(
    type='WSOLLocalizer',
    backbone=dict(type='TinyResNet'),
    head=dict(type='GAPClsHead', num_classes=10, in_channels=128),
    cam=dict(type='CAM'),
)
