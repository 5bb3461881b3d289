# Stage 1 on OpenImages30k with ResNet50, evaluated with Grad-CAM.
_base_ = ['./cam_resnet50_openimages.py']
model = dict(cam=dict(type='GradCAM'))
