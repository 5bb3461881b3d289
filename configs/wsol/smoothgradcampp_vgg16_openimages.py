# Stage 1 on OpenImages30k with VGG16, evaluated with Smooth Grad-CAM++.
_base_ = ['./cam_vgg16_openimages.py']
model = dict(cam=dict(type='SmoothGradCAMPlusPlus'))
