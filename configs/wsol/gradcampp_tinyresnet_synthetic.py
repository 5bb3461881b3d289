# Stage 1 on the synthetic data, evaluated with GradCAMPlusPlus.
_base_ = ['./cam_tinyresnet_synthetic.py']
model = dict(cam=dict(type='GradCAMPlusPlus'))
