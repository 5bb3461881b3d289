# FSL baseline (docs/fsl_baseline.md) on InceptionV3: the backbone of
# inceptionv3_cam.py (wsolevaluation/SPG form, ImageNet weights) and the
# U-Net decoder of fcam_inceptionv3.py (Table F.2), trained with per-pixel
# cross-entropy on full annotations. No classifier head. The leaf config
# sets the data preprocessor.
model = dict(
    type='FSLSegmenter',
    backbone=dict(
        type='InceptionV3WSOL',
        drop_rate=0.5,
        init_cfg=dict(type='Pretrained',
                      checkpoint='torchvision://inception_v3_google')),
    decoder=dict(
        type='FCAMUNetDecoder',
        in_channels=(64, 80, 288, 768, 1024),
        decoder_channels=(256, 128, 64, 32, 16)),
    # the mean CE over every pixel that is not 255 (ignore regions, padding)
    loss=dict(type='PartialCrossEntropyLoss', ignore_index=255),
)
