# Stage 1 on OpenImages30k with InceptionV3, evaluated with Grad-CAM.
_base_ = ['./cam_inceptionv3_openimages.py']
model = dict(cam=dict(type='GradCAM'))
