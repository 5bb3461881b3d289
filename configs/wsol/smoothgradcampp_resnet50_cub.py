# Stage 1 on CUB-200-2011 with ResNet50, evaluated with Smooth Grad-CAM++.
_base_ = ['./cam_resnet50_cub.py']
model = dict(cam=dict(type='SmoothGradCAMPlusPlus'))
