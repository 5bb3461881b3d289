# FSL baseline (docs/fsl_baseline.md) on ResNet50: the backbone of
# resnet50_cam.py (ImageNet weights, layer3/layer4 at stride 1) and the
# U-Net decoder of fcam_resnet50.py (Table F.2), trained with per-pixel
# cross-entropy on full annotations. No classifier head. The leaf config
# sets the data preprocessor.
model = dict(
    type='FSLSegmenter',
    backbone=dict(
        type='ResNet50WSOL',
        init_cfg=dict(type='Pretrained',
                      checkpoint='torchvision://resnet50')),
    decoder=dict(
        type='FCAMUNetDecoder',
        in_channels=(64, 256, 512, 1024, 2048),
        decoder_channels=(256, 128, 64, 32, 16)),
    # the mean CE over every pixel that is not 255 (ignore regions, padding)
    loss=dict(type='PartialCrossEntropyLoss', ignore_index=255),
)
