# F-CAM stage 2 on the synthetic data with one more loss term: the pixel
# entropy of docs/examples/my_losses.py, added by the localizer of
# docs/examples/my_localizers.py.
_base_ = [
    '{{$FCAM_MM_CONFIGS:../../../configs}}/fcam/tinyresnet_synthetic_stage2.py'
]
custom_imports = dict(
    imports=['my_losses', 'my_localizers'], allow_failed_imports=False)
model = dict(
    type='EntropyFCAMLocalizer',
    entropy_loss=dict(type='PixelEntropyLoss', loss_weight=0.1))
