# FSL baseline (docs/fsl_baseline.md) on the CPU backbone: TinyResNet and
# the decoder of fcam_tinyresnet.py, trained with per-pixel cross-entropy on
# full annotations. No classifier head.
model = dict(
    type='FSLSegmenter',
    backbone=dict(
        type='TinyResNet',
        # the ImageNet stand-in, as for the WSOL classifier
        # (tiny_resnet_cam.py); checkpoint=None trains from scratch
        # (FSLSegmenter.init_weights). Another start, e.g. a stage-1
        # classifier of configs/wsol/:
        #   --cfg-options model.backbone.init_cfg.checkpoint=CKPT
        # (for a backbone-only state dict add model.backbone.init_cfg.prefix=)
        init_cfg=dict(type='Pretrained',
                      checkpoint='{{ fileDirname }}/../../../checkpoints/tinyresnet_objects-5978e6bc.pth',
                      prefix='backbone.')),
    decoder=dict(
        type='FCAMUNetDecoder',
        in_channels=(16, 32, 64, 128),
        decoder_channels=(64, 32, 16, 16)),
    # the mean CE over every pixel that is not 255 (ignore regions, padding)
    loss=dict(type='PartialCrossEntropyLoss', ignore_index=255),
)
