# Stage-1 WSOL classifier for CPU: TinyResNet + GAP head, plain CAM.
model = dict(
    type='WSOLLocalizer',
    # the ImageNet stand-in: a TinyResNet pre-trained on whole synthetic
    # objects (configs/pretrain/tinyresnet_objects.py), shipped with the
    # package, as the real configs load torchvision://
    backbone=dict(
        type='TinyResNet',
        init_cfg=dict(type='Pretrained',
                      checkpoint='{{ fileDirname }}/../../../checkpoints/tinyresnet_objects-5978e6bc.pth',
                      prefix='backbone.')),
    head=dict(type='GAPClsHead', num_classes=12, in_channels=128),
    cam=dict(type='CAM'),
)
