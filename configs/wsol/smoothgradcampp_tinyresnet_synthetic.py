# Stage 1 on the synthetic data, evaluated with SmoothGradCAMPlusPlus.
_base_ = ['./cam_tinyresnet_synthetic.py']
model = dict(cam=dict(type='SmoothGradCAMPlusPlus'))
