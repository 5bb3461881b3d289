# Stage 1 on CUB-200-2011 with VGG16, evaluated with Smooth Grad-CAM++.
_base_ = ['./cam_vgg16_cub.py']
model = dict(cam=dict(type='SmoothGradCAMPlusPlus'))
