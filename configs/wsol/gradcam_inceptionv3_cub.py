# Stage 1 on CUB-200-2011 with InceptionV3, evaluated with Grad-CAM.
_base_ = ['./cam_inceptionv3_cub.py']
model = dict(cam=dict(type='GradCAM'))
