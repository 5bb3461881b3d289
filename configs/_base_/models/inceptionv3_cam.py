# Stage-1 WSOL classifier: InceptionV3 up to Mixed_6e in the wsolevaluation
# form + SPG_A3 convs (768->1024->1024) + GAP head, plain CAM; 28x28 top
# map for 224x224 inputs. ImageNet weights from torchvision's
# inception_v3_google (key mapping: InceptionV3WSOL.convert_pretrained); the
# leaf config sets num_classes and the data preprocessor.
model = dict(
    type='WSOLLocalizer',
    backbone=dict(
        type='InceptionV3WSOL',
        drop_rate=0.5,
        init_cfg=dict(type='Pretrained',
                      checkpoint='torchvision://inception_v3_google')),
    head=dict(type='GAPClsHead', num_classes=1000, in_channels=1024),
    cam=dict(type='CAM'),
)
