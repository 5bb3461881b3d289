# Stage 1 on the synthetic data, its CAM built by ElementWiseGradCAM
# (docs/examples/my_cams.py).
_base_ = [
    '{{$FCAM_MM_CONFIGS:../../../configs}}/wsol/cam_tinyresnet_synthetic.py'
]
custom_imports = dict(imports=['my_cams'], allow_failed_imports=False)
model = dict(cam=dict(type='ElementWiseGradCAM'))
