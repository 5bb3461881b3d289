# F-CAM on the synthetic data with PlainConvNet (docs/examples/
# my_backbones.py) instead of TinyResNet: the head reads the top map and
# the decoder every output, so their widths follow the backbone's.
_base_ = [
    '{{$FCAM_MM_CONFIGS:../../../configs}}/fcam/tinyresnet_synthetic.py'
]
custom_imports = dict(imports=['my_backbones'], allow_failed_imports=False)
model = dict(
    backbone=dict(_delete_=True, type='PlainConvNet',
                  widths=(16, 32, 64, 96)),
    head=dict(in_channels=96),
    decoder=dict(in_channels=(16, 32, 64, 96)))
