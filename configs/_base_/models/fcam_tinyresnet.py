# F-CAM on the CPU backbone: TinyResNet classifier + CAM + U-Net decoder.
model = dict(
    type='FCAMLocalizer',
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
    decoder=dict(
        type='FCAMUNetDecoder',
        in_channels=(16, 32, 64, 128),
        decoder_channels=(64, 32, 16, 16)),
    seed_loss=dict(type='PartialCrossEntropyLoss', loss_weight=1.0),
    crf_loss=dict(
        type='DenseCRFLoss',
        loss_weight=2e-9,
        sigma_rgb=15.0,
        sigma_xy=100.0,
        scale_factor=1.0),
    size_loss=dict(type='AbsoluteSizeConstraintLoss', loss_weight=0.1),
    seed_cfg=dict(n_neg=0.1, num_pos=1, num_neg=1, erode_kernel=11,
                  seed_size=3),
)
# Stage 1 leaves the decoder unused, stage 2 the frozen classifier.
find_unused_parameters = True
