# Stage 1 on CUB-200-2011 with ResNet50, evaluated with LayerCAM.
_base_ = ['./cam_resnet50_cub.py']
model = dict(cam=dict(type='LayerCAM'))
