# Stage 1 on the synthetic data with InceptionV3, evaluated with Smooth Grad-CAM++.
_base_ = ['./cam_inceptionv3_synthetic.py']
model = dict(cam=dict(type='SmoothGradCAMPlusPlus'))
