# Stage 1 on the synthetic data with ResNet50, evaluated with Smooth Grad-CAM++.
_base_ = ['./cam_resnet50_synthetic.py']
model = dict(cam=dict(type='SmoothGradCAMPlusPlus'))
