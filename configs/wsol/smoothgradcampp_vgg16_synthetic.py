# Stage 1 on the synthetic data with VGG16, evaluated with Smooth Grad-CAM++.
_base_ = ['./cam_vgg16_synthetic.py']
model = dict(cam=dict(type='SmoothGradCAMPlusPlus'))
