# F-CAM on the CPU backbone: the TinyResNet classifier of
# tiny_resnet_cam.py (objects-pretrained, plain CAM) + the U-Net decoder.
_base_ = ['./tiny_resnet_cam.py']
model = dict(
    type='FCAMLocalizer',
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
