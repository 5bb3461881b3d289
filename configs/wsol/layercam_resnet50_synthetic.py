# Stage 1 on the synthetic data with ResNet50, evaluated with LayerCAM.
_base_ = ['./cam_resnet50_synthetic.py']
model = dict(cam=dict(type='LayerCAM'))
