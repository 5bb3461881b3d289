# Stage 1 on the synthetic data with VGG16, evaluated with LayerCAM.
_base_ = ['./cam_vgg16_synthetic.py']
model = dict(cam=dict(type='LayerCAM'))
