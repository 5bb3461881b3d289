# FSL baseline (docs/fsl_baseline.md) on VGG16: the backbone of
# vgg16_cam.py (ImageNet weights, no pool4/pool5, conv6 512->1024) and the
# U-Net decoder of fcam_vgg16.py (Table F.2, with the centre block),
# trained with per-pixel cross-entropy on full annotations. No classifier
# head. The leaf config sets the data preprocessor.
model = dict(
    type='FSLSegmenter',
    backbone=dict(
        type='VGG16WSOL',
        init_cfg=dict(type='Pretrained', checkpoint='torchvision://vgg16')),
    decoder=dict(
        type='FCAMUNetDecoder',
        in_channels=(128, 256, 1024),
        decoder_channels=(256, 128, 64),
        center_block=True),
    # the mean CE over every pixel that is not 255 (ignore regions, padding)
    loss=dict(type='PartialCrossEntropyLoss', ignore_index=255),
)
