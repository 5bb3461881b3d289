# Stage-1 WSOL classifier: VGG16 without pool4/pool5 plus conv6 (512->1024)
# + GAP head, plain CAM; 28x28 top map for 224x224 inputs. ImageNet weights
# from torchvision (conv6 keeps its He initialisation); the leaf config
# sets num_classes and the data preprocessor.
model = dict(
    type='WSOLLocalizer',
    backbone=dict(
        type='VGG16WSOL',
        init_cfg=dict(type='Pretrained', checkpoint='torchvision://vgg16')),
    head=dict(type='GAPClsHead', num_classes=1000, in_channels=1024),
    cam=dict(type='CAM'),
)
